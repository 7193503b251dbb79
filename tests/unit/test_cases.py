"""The scenario table: every folder under tests/fixtures/cases is one real log and its verdict.

Each case.yaml names the expected category, the log format, and a substring of the line that must
lead the evidence. Adding a case is adding a folder; this test picks it up.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recoverops.detector import analyze_text
from recoverops.logs.document import clean_line

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())


def test_the_case_table_is_not_empty() -> None:
    assert len(CASE_DIRS) >= 30
    for folder in CASE_DIRS:
        assert (folder / "log.txt").is_file(), folder
        assert (folder / "case.yaml").is_file(), folder


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case(folder: Path) -> None:
    case = yaml.safe_load((folder / "case.yaml").read_text("utf-8"))
    text = (folder / "log.txt").read_bytes().decode("utf-8", errors="replace")
    raw_lines = text.split("\n")

    analysis = analyze_text(text)

    first = analysis.evidence[0] if analysis.evidence else None
    got = {
        "category": analysis.category.value,
        "log_format": analysis.log_format,
        "first_evidence": None if first is None else (first.line, first.text),
    }
    assert analysis.category.value == case["category"], got
    assert analysis.log_format == case["format"], got
    assert first is not None, got
    assert case["evidence"] in first.text, got
    # Evidence line numbers are 1-based positions in the log as given.
    for evidence in analysis.evidence:
        assert 1 <= evidence.line <= len(raw_lines)
        assert clean_line(raw_lines[evidence.line - 1]) == evidence.text, evidence
    assert 0.0 <= analysis.confidence <= 1.0
