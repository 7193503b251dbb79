"""Fixes that carry a patch when a checkout is given: real failing logs, small checkouts written
here, and the patch checked by applying it to the checkout's file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import recoverops.diagnosis.pipeline as pipeline
from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.diagnosis import Checkout, diagnose, diagnose_text
from recoverops.diagnosis.fixes import FixContext
from recoverops.diagnosis.model import FixProposal
from recoverops.diagnosis.patch import apply, make_diff, parse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOTSWAP = FIXTURES / "diagnosis" / "maven-javac-missing-import" / "log.txt"
FLAKE8 = FIXTURES / "cases" / "plain-flake8" / "log.txt"
OOM = FIXTURES / "cases" / "plain-k8s-oomkilled-exit-137" / "log.txt"
HELPER = "hotswap-agent-core/src/main/java/org/hotswap/agent/config/LogConfigurationHelper.java"
JAVA = """package org.hotswap.agent.config;

import java.io.IOException;

public class LogConfigurationHelper {
    static String lower(String s) { return s.toLowerCase(Locale.ENGLISH); }
}
"""


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def patched(analysis: Analysis, root: Path, path: str) -> str:
    fix = analysis.fix
    assert isinstance(fix, FixProposal) and fix.patch is not None, fix
    [diff] = parse(fix.patch)
    assert diff.new_path == path
    return apply(diff, (root / path).read_text())


def test_a_missing_java_import_the_compiler_names_is_added(tmp_path: Path) -> None:
    (tmp_path / HELPER).parent.mkdir(parents=True)
    (tmp_path / HELPER).write_text(JAVA)
    text = read(HOTSWAP)

    analysis = diagnose(analyze_text(text), text=text, repo=tmp_path)

    assert analysis.fix.files[0] == HELPER
    after = patched(analysis, tmp_path, HELPER)
    assert "import java.io.IOException;\nimport java.util.Locale;\n" in after
    assert analysis.fix.to_json()["patch"].startswith(f"--- a/{HELPER}\n+++ b/{HELPER}\n")


def test_a_missing_final_newline_flake8_reports_is_added(tmp_path: Path) -> None:
    lines = [f"x{n} = {n}" for n in range(1, 44)]
    (tmp_path / "num_guess.py").write_text("\n".join(lines))  # no final newline (W292 at 43)
    text = read(FLAKE8)

    analysis = diagnose(analyze_text(text), text=text, repo=tmp_path)

    assert analysis.fix.kind == "lint" and "ruff check --fix" in analysis.fix.actions[0]
    assert patched(analysis, tmp_path, "num_guess.py") == "\n".join(lines) + "\n"


def test_an_oomkilled_container_gets_its_manifests_memory_limit_doubled(tmp_path: Path) -> None:
    manifest = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: web:1.2
          resources:
            requests:
              memory: 128Mi
            limits:
              memory: 200Mi
"""
    (tmp_path / "deploy.yaml").write_text(manifest)
    text = read(OOM)

    analysis = diagnose(analyze_text(text), text=text, repo=tmp_path)

    assert analysis.fix.kind == "kubernetes" and analysis.fix.files == ("deploy.yaml",)
    after = yaml.safe_load(patched(analysis, tmp_path, "deploy.yaml"))
    resources = after["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"memory": "128Mi"}, "limits": {"memory": "400Mi"}}


def test_without_a_checkout_a_fix_names_files_but_has_no_patch() -> None:
    text = read(HOTSWAP)
    analysis = diagnose(analyze_text(text), text=text)
    assert analysis.fix.files[0] == HELPER and analysis.fix.patch is None


class BrokenYaml:
    """A fixer whose patch leaves its YAML unparseable: validation must keep it from being shown."""

    def propose(self, context: FixContext) -> FixProposal | None:
        old = context.read("deploy.yaml") or ""
        return FixProposal(
            kind="kubernetes",
            files=("deploy.yaml",),
            explanation="Raise the limit.",
            confidence=0.7,
            actions=("raise the limit",),
            patch=make_diff("deploy.yaml", old, old + "limits: [oops\n"),
            originals={"deploy.yaml": old},
        )


def test_a_proposal_whose_patch_does_not_validate_is_shown_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "deploy.yaml").write_text("kind: Deployment\n")
    monkeypatch.setattr(pipeline, "FIXERS", {"broken": BrokenYaml()})
    text = read(OOM)

    _, [fix] = diagnose_text(analyze_text(text), text=text, checkout=Checkout(tmp_path))

    assert fix.patch is None and fix.files == ("deploy.yaml",)
    assert "No patch: deploy.yaml would not parse" in fix.explanation
    assert fix.confidence < 0.7
