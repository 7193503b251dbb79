"""Every exception the project defines is in the one tree of `recoverops/errors.py`, so the CLI
and the HTTP layer, which map `RecoverOpsError` to exit and status codes, never miss one."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import recoverops
from recoverops.errors import RecoverOpsError

ROOT = Path(__file__).resolve().parents[2]
# Source folders and the package each one installs as (pyproject.toml's package-dir).
PACKAGES = {
    "recoverops": "recoverops",
    "serve": "recoverops.serve",
    "actors": "recoverops.actors",
    "models": "recoverops.models",
    "training": "recoverops.training",
}


def exception_classes() -> list[tuple[str, str]]:
    """(module, class) of every class whose bases name an exception, by ast."""
    found = []
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            module = ".".join((package, *parts)).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name)
                    and (base.id.endswith(("Error", "Exception")) or base.id == "Exception")
                    for base in node.bases
                ):
                    found.append((module, node.name))
    return found


def test_every_exception_the_project_defines_is_a_recoverops_error() -> None:
    classes = exception_classes()
    assert ("recoverops.errors", "ConfigurationError") in classes  # the walk finds them
    outside = [
        f"{module}.{name}"
        for module, name in classes
        if not issubclass(getattr(importlib.import_module(module), name), RecoverOpsError)
    ]
    assert recoverops.__name__ == "recoverops"
    assert not outside, f"exceptions outside recoverops.errors' tree: {outside}"
