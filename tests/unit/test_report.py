"""The human report: the verdict, and each evidence line in context with its number."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.report import render_report

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases"


def case_text(name: str) -> str:
    return (CASES / name / "log.txt").read_bytes().decode("utf-8", errors="replace")


def numbered(report: str) -> list[tuple[str, int, str]]:
    """(marker, line number, text) of every numbered log line the report shows."""
    found = []
    for line in report.splitlines():
        m = re.match(r"^    ([> ]) +(\d+) \| ?(.*)$", line)
        if m:
            found.append((m.group(1), int(m.group(2)), m.group(3)))
    return found


@pytest.mark.parametrize("context", [0, 1, 2, 5])
def test_each_evidence_line_is_marked_with_its_number_and_context(context: int) -> None:
    text = case_text("travis-go-build-redeclared")
    analysis = analyze_text(text)
    report = render_report(name="build.log", text=text, analysis=analysis, context=context)
    assert report.startswith("build.log\n")
    assert f"category:   {analysis.category.value}" in report
    shown = numbered(report)
    marked = [(n, t) for marker, n, t in shown if marker == ">"]
    assert [n for n, _ in marked] == [e.line for e in analysis.evidence]
    assert [t for _, t in marked] == [e.text[:300] for e in analysis.evidence]
    for rank, evidence in enumerate(analysis.evidence, start=1):
        assert f"  [{rank}] line {evidence.line}\n" in report
    if context == 0:
        assert all(marker == ">" for marker, _, _ in shown)
    else:
        assert len(shown) > len(marked)


def test_no_line_past_the_end_of_the_log_is_shown() -> None:
    # a 3-line log ending in a newline has no line 4
    text = case_text("plain-aws-invalid-client-token-id")
    assert text.endswith("\n") and text.count("\n") == 3
    analysis = analyze_text(text)
    report = render_report(name="aws.log", text=text, analysis=analysis, context=2)
    assert max(n for _, n, _ in numbered(report)) <= 3, report


def test_a_report_without_evidence_says_so() -> None:
    analysis = analyze_text("all good\n")
    report = render_report(
        name="ok.log", text="all good\n", analysis=_without_evidence(analysis), context=2
    )
    assert "evidence:   none found" in report


def _without_evidence(analysis: Analysis) -> Analysis:
    return replace(analysis, evidence=())
