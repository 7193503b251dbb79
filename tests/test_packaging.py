"""Every package folder is installed, under the name ARCHITECTURE.md gives it."""

import importlib
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = ("serve", "actors", "models", "training")
FOLDERS = {"recoverops": "recoverops", **{folder: f"recoverops.{folder}" for folder in ADAPTERS}}


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    found = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *parts)))
    assert sorted(config["packages"]) == sorted(found)
    assert config["package-dir"] == {f"recoverops.{folder}": folder for folder in ADAPTERS}


def test_the_adapters_install_under_recoverops() -> None:
    for folder in ADAPTERS:
        module = importlib.import_module(f"recoverops.{folder}")
        assert Path(str(module.__file__)).parent == ROOT / folder
