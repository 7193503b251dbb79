"""Every package folder is installed, under the name ARCHITECTURE.md gives it."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"recoverops": "recoverops", "serve": "recoverops.serve", "actors": "recoverops.actors"}


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    found = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *parts)))
    assert sorted(config["packages"]) == sorted(found)
    assert config["package-dir"] == {"recoverops.serve": "serve", "recoverops.actors": "actors"}


def test_the_adapters_install_under_recoverops() -> None:
    import recoverops.actors
    import recoverops.serve

    assert Path(recoverops.serve.__file__).parent == ROOT / "serve"
    assert Path(recoverops.actors.__file__).parent == ROOT / "actors"
