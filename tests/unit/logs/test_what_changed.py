"""What changed against the last passing run: the failing log's new lines, by template, through
the Python API and `recoverops analyze LOG --passing PASSING` in a subprocess. The logs are
written here in GitHub Actions' format (an ISO timestamp before every line) and pytest's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.logs.what_changed import new_lines

# Written for these tests (not taken from any corpus): the same job passing on one day and
# failing on the next, with a refund test broken in between.
FIXTURES = Path(__file__).parents[2] / "fixtures" / "what_changed"
PASSING = (FIXTURES / "passing.log").read_text()
FAILING = (FIXTURES / "failing.log").read_text()


def test_only_lines_the_passing_run_did_not_print_are_new() -> None:
    found = new_lines(FAILING, PASSING)
    texts = [text for _, text in found.lines]
    # Timestamps, durations and versions differ on every line; the templates do not.
    assert not any("test session starts" in t or "Downloading" in t for t in texts)
    assert "E       assert 0 == 30" in texts
    assert any(t.startswith("FAILED tests/test_refunds.py::") for t in texts)
    # The summary line changed its words ("1 failed, 213 passed"): new.
    assert any("1 failed, 213 passed" in t for t in texts)
    assert found.compared == FAILING.count("\n")
    assert 0.3 < found.removed_share < 0.7


def test_a_repeated_new_line_is_listed_once() -> None:
    repeated = (
        FAILING + "2026-11-30T09:14:22.1000000Z ##[error]Process completed with exit code 1.\n"
    )
    once = [t for _, t in new_lines(repeated, PASSING).lines if "exit code" in t]
    assert len(once) == 1


def test_the_root_cause_says_what_changed_and_masks_a_secret_on_a_new_line() -> None:
    leaked = FAILING.replace(
        "E       assert 0 == 30",
        "E       assert 0 == 30  # GITHUB_TOKEN=ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    )
    analysis = diagnose(analyze_text(leaked), text=leaked, passing_text=PASSING)
    changed = analysis.root_cause.to_json()["what_changed"]
    assert changed["against"] == "the last passing run of the same job"
    texts = [line["text"] for line in changed["new_lines"]]
    assert any("assert 0 == 30" in t for t in texts)
    assert not any("ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" in t for t in texts)
    assert changed["changed_files"] is None


def test_without_a_passing_run_nothing_is_said_about_what_changed() -> None:
    analysis = diagnose(analyze_text(FAILING), text=FAILING)
    assert "what_changed" not in analysis.root_cause.to_json()


def test_analyze_passing_shows_the_new_lines_offline(tmp_path: Path) -> None:
    failing = tmp_path / "failing.log"
    passing = tmp_path / "passing.log"
    failing.write_text(FAILING)
    passing.write_text(PASSING)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env["RECOVEROPS_HOME"] = str(tmp_path / "home")
    command = [sys.executable, "-m", "recoverops.cli.main", "analyze", str(failing)]
    shown = subprocess.run(
        [*command, "--passing", str(passing)], capture_output=True, text=True, env=env, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert "lines are new against the passing run" in shown.stdout
    assert "E       assert 0 == 30" in shown.stdout
    as_json = subprocess.run(
        [*command, "--json", "--passing", str(passing)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    assert result["category"] == "build.test"
    changed = result["root_cause"]["what_changed"]
    assert changed["new_line_count"] < changed["lines_compared"]
    missing = subprocess.run(
        [*command, "--passing", str(tmp_path / "absent.log")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "--passing" in missing.stderr
