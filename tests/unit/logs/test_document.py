"""clean_line and LogDocument, on lines taken from the real logs under tests/fixtures/cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from recoverops.logs.document import LogDocument, clean_line

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "cases"


def case_lines(name: str) -> list[str]:
    """The raw lines (split on '\\n' only, '\\r' kept) of a fixture log."""
    return (CASES / name / "log.txt").read_bytes().decode("utf-8", errors="replace").split("\n")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # colour codes around text, as Travis prints its "The command" lines
        ('\x1b[31;1mThe command "make" exited with 2.\x1b[0m', 'The command "make" exited with 2.'),
        # erase-line, as in the travis_fold markers
        ("\x1b[0Ktravis_fold:end:install.1", "travis_fold:end:install.1"),
        # OSC hyperlink
        ("\x1b]8;;https://example.org\x07link\x1b]8;;\x07", "link"),
        # CRLF line ending
        ("remote: Invalid username or password.\r", "remote: Invalid username or password."),
        # carriage-return progress: only the last text written stays
        ("Downloading  10%\rDownloading  55%\rDownloading 100%", "Downloading 100%"),
        (
            "Receiving objects:  1%\rReceiving objects: 100% (10/10), done.\r",
            "Receiving objects: 100% (10/10), done.",
        ),
        # a line that is only carriage returns and blanks
        ("\r  \r", ""),
        # GitHub Actions runner timestamp
        ("2026-07-29T17:45:22.4792510Z   Caused by: dns error", "  Caused by: dns error"),
        (
            "2026-07-29T17:45:22Z ##[error]Process completed with exit code 2.",
            "##[error]Process completed with exit code 2.",
        ),
        # Jenkins timestamper, time-only and bracketed ISO
        ("20:44:19 integration-cli is deprecated.", "integration-cli is deprecated."),
        ("20:44:19.123 Build step", "Build step"),
        ("[2024-01-02T03:04:05.678Z] + make test", "+ make test"),
        # trailing blanks go, leading indentation stays
        ("    at Foo.bar(Foo.java:12)   ", "    at Foo.bar(Foo.java:12)"),
        # a number that is not a timestamp stays
        ("42 tests passed", "42 tests passed"),
        ("[ERROR] Failed to execute goal", "[ERROR] Failed to execute goal"),
        ("", ""),
    ],
)
def test_clean_line(raw: str, expected: str) -> None:
    assert clean_line(raw) == expected


def test_clean_line_on_a_real_travis_fold_line() -> None:
    # Line 35 of the Travis log: timer, erase-line, colours, and a CR at the end.
    raw = case_lines("travis-go-build-redeclared")[34]
    assert "\x1b[0K" in raw and raw.endswith("\r")
    assert clean_line(raw) == 'The command "make test-and-cover" exited with 2.'


def test_clean_line_on_a_real_travis_line_with_progress_segments() -> None:
    # Line 2: several \r\x1b[0K-separated markers; what a terminal shows is the last command.
    raw = case_lines("travis-go-build-redeclared")[1]
    assert raw.count("\r") >= 3
    cleaned = clean_line(raw)
    assert cleaned.startswith("$ go get ")
    assert "\x1b" not in cleaned and "\r" not in cleaned and "travis_" not in cleaned


def test_clean_line_on_real_github_lines() -> None:
    raw = case_lines("github-uv-python-downloads-dns-error")
    assert clean_line(raw[4]) == (
        "  Caused by: failed to lookup address information: nodename nor servname provided, "
        "or not known"
    )
    assert clean_line(raw[6]) == "##[error]Process completed with exit code 2."


def test_clean_line_on_real_jenkins_timestamper_lines() -> None:
    raw = case_lines("jenkins-moby-validate-integration-cli-deprecated")
    assert clean_line(raw[0]) == "Step 39 : COPY . /go/src/github.com/docker/docker"
    # "20:44:19 " alone: a blank line of the console
    assert raw[12] == "20:44:19 "
    assert clean_line(raw[12]) == ""


class TestLogDocument:
    def test_lines_are_split_on_newline_and_the_final_newline_adds_no_line(self) -> None:
        doc = LogDocument("a\nb\n")
        assert len(doc) == 2
        assert [doc.raw(n) for n in range(1, len(doc) + 1)] == ["a", "b"]

    def test_a_blank_last_line_before_the_final_newline_is_kept(self) -> None:
        assert len(LogDocument("a\n\n")) == 2
        assert len(LogDocument("a\nb")) == 2

    def test_clean_is_one_based_and_cleans(self) -> None:
        doc = LogDocument("\x1b[31mfirst\x1b[0m\r\n20:44:19 second\nthird")
        assert doc.clean(1) == "first"
        assert doc.clean(2) == "second"
        assert doc.clean(3) == "third"
        # the raw text is kept as given
        assert doc.raw(1) == "\x1b[31mfirst\x1b[0m\r"

    def test_line_at_maps_offsets_to_one_based_lines(self) -> None:
        text = "ab\ncde\n\nf"
        doc = LogDocument(text)
        expected = {0: 1, 1: 1, 2: 1, 3: 2, 5: 2, 6: 2, 7: 3, 8: 4}
        for offset, line in expected.items():
            assert doc.line_at(offset) == line, (offset, repr(text[offset]))

    def test_line_at_agrees_with_the_lines_on_a_real_log(self) -> None:
        text = (CASES / "travis-go-build-redeclared" / "log.txt").read_bytes().decode("utf-8")
        doc = LogDocument(text)
        needle = "log redeclared as imported package name"
        line = doc.line_at(text.index(needle))
        assert line == 31
        assert needle in doc.raw(line)

    def test_line_at_clamps_past_the_end(self) -> None:
        doc = LogDocument("a\nb\n")
        assert doc.line_at(10_000) == 2
        assert doc.line_at(-5) == 1
