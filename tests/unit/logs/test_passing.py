"""A passing log given: lines the last green run printed too are not offered as evidence."""

from __future__ import annotations

from recoverops.detector import analyze_text
from recoverops.logs.passing import passing_templates

FAILING = """\
$ mvn -B verify
[WARNING] Failed to fetch optional metadata from https://repo.example.org (status 503): ignored
[INFO] Compiling 42 source files
[ERROR] /build/src/main/java/org/acme/Order.java:[88,17] cannot find symbol
[INFO] BUILD FAILURE
"""
# The last green run of the same job printed the same warning, with another status code.
PASSING = """\
$ mvn -B verify
[WARNING] Failed to fetch optional metadata from https://repo.example.org (status 502): ignored
[INFO] Compiling 42 source files
[INFO] BUILD SUCCESS
"""


def _lines(analysis_text: str, passing: str | None) -> list[str]:
    return [e.text for e in analyze_text(analysis_text, passing_text=passing).evidence]


def test_the_passing_logs_templates_mask_what_varies() -> None:
    assert (
        "[WARNING] Failed to fetch optional metadata from https://repo.example.org (status <NUM>): "
        "ignored" in passing_templates(PASSING)
    )


def test_a_line_the_passing_run_printed_too_is_dropped() -> None:
    warning = (
        "[WARNING] Failed to fetch optional metadata from https://repo.example.org (status 503): "
        "ignored"
    )
    assert warning in _lines(FAILING, None)
    with_passing = _lines(FAILING, PASSING)
    assert warning not in with_passing
    assert with_passing[0].endswith("cannot find symbol")


def test_a_passing_log_that_printed_every_line_changes_nothing() -> None:
    assert _lines(FAILING, FAILING) == _lines(FAILING, None)
