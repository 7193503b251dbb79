"""The README and docs/ stand alone and say what the code does: the settings table is the
Settings class's, the taxonomy page lists the categories, every link leads to a file here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from recoverops.cli import analyze, api, replay, train, up
from recoverops.settings import Settings
from recoverops.taxonomy import Category

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "examples" / "NOTICE.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")


def test_the_settings_page_is_generated_from_the_settings_class() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "settings_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = (ROOT / "docs" / "settings.md").read_text("utf-8")
    for name in Settings.model_fields:
        assert f"`RECOVEROPS_{name.upper()}`" in page


def test_the_taxonomy_page_lists_every_category_and_no_other() -> None:
    page = (ROOT / "docs" / "taxonomy.md").read_text("utf-8")
    listed = re.findall(r"^\| `([a-z_.]+)` \|", page, flags=re.MULTILINE)
    assert listed == [c.value for c in Category]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_page_refers_to_nothing_outside_the_project(page: Path) -> None:
    text = page.read_text("utf-8")
    assert "../shared" not in text and "/work/" not in text
    for target in LINK.findall(text):
        if not target.startswith(("http://", "https://")):
            assert (page.parent / target).exists(), f"{page.name} links to {target}"


def test_each_command_names_only_real_settings_in_its_help() -> None:
    for command in (analyze, api, replay, train, up):
        assert set(command.READS) <= set(Settings.model_fields), command.__name__
