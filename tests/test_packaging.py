"""Every package folder is installed, under the name ARCHITECTURE.md gives it."""

import importlib
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = ("serve", "actors", "models", "training")
FOLDERS = {"recoverops": "recoverops", **{folder: f"recoverops.{folder}" for folder in ADAPTERS}}


def test_every_package_folder_is_listed_in_pyproject() -> None:
    # Python can import any folder with a name fit for it, so setuptools warns ("Package would
    # be ignored") about each one that holds files and is not listed: data folders count too.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    found = set()
    for folder, name in FOLDERS.items():
        for path in [ROOT / folder, *(ROOT / folder).rglob("*")]:
            parts = path.relative_to(ROOT / folder).parts
            shipped = path.is_dir() and any(f.is_file() for f in path.iterdir())
            if shipped and all(p.isidentifier() and p != "__pycache__" for p in parts):
                found.add(".".join((name, *parts)))
    assert sorted(config["packages"]) == sorted(found)
    assert config["package-dir"] == {f"recoverops.{folder}": folder for folder in ADAPTERS}


def test_the_adapters_install_under_recoverops() -> None:
    for folder in ADAPTERS:
        module = importlib.import_module(f"recoverops.{folder}")
        assert Path(str(module.__file__)).parent == ROOT / folder
