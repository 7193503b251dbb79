"""The diagnosis table: every folder under tests/fixtures/diagnosis is a real log (its own
excerpt, or a case of tests/fixtures/cases) and what the root cause and fix must name.

case.yaml: `log` (default log.txt), the `kind` and `component` the root cause names among its
components, the fix's `fix_kind`, its first file `fix_file`, and a substring of its actions or
explanation (`action`). `fix_kind: null` says no fixer has a proposal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose

TABLE = Path(__file__).resolve().parents[2] / "fixtures" / "diagnosis"
CASES = sorted(p for p in TABLE.iterdir() if p.is_dir())


def test_the_table_covers_every_fixer_kind_the_corpus_has() -> None:
    kinds = {yaml.safe_load((c / "case.yaml").read_text())["fix_kind"] for c in CASES}
    assert {"dependency", "compilation", "lint", "test", "kubernetes"} <= kinds


@pytest.mark.parametrize("folder", CASES, ids=[p.name for p in CASES])
def test_case(folder: Path) -> None:
    case = yaml.safe_load((folder / "case.yaml").read_text("utf-8"))
    text = (folder / case.get("log", "log.txt")).read_bytes().decode("utf-8", errors="replace")

    analysis = diagnose(analyze_text(text), text=text)

    cause = analysis.root_cause.to_json()
    named = [(c["kind"], c["name"]) for c in cause["components"]]
    if "component" in case:
        assert (case["kind"], case["component"]) in named, named
        assert cause["components"][0]["kind"] == case["kind"], named
    assert cause["explanation"] and 0.0 <= cause["confidence"] <= 1.0
    if case["fix_kind"] is None:
        assert analysis.fix is None
        return
    fix = analysis.fix.to_json()
    assert fix["kind"] == case["fix_kind"], fix
    if "fix_file" in case:
        assert fix["files"][0] == case["fix_file"], fix
    said = " ".join(fix["actions"]) + " " + fix["explanation"]
    assert case.get("action", "") in said, fix
    assert fix["patch"] is None  # no checkout: files and actions, no patch
    # An IAM grant also carries its validated Terraform and CloudFormation snippets.
    assert set(fix) - {"snippets"} == {
        "kind",
        "files",
        "patch",
        "actions",
        "explanation",
        "confidence",
    }
