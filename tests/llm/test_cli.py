"""`recoverops analyze` with an LLM: on when RECOVEROPS_LLM_BASE_URL is set, off with --no-llm;
its answers kept in RECOVEROPS_HOME's store, so analyzing the same log again asks nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from recoverops.cli.main import main
from tests.llm.scripted_server import completion, scripted
from tests.llm.support import FLAKE8

ANSWER = json.dumps({"explanation": "Unused imports in num_guess.py.", "fix": 0, "confidence": 0.8})


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("RECOVEROPS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RECOVEROPS_HOME", str(tmp_path / "home"))
    yield


def analyze(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["analyze", "--json", *args, str(FLAKE8)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    result: dict[str, object] = json.loads(out)
    return result


def test_analyze_uses_the_configured_llm_and_remembers_its_answer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with scripted(completion(ANSWER)) as server:
        monkeypatch.setenv("RECOVEROPS_LLM_BASE_URL", server.url)
        first = analyze(capsys)
        again = analyze(capsys)  # another process, in effect: the store answers
        assert len(server.requests) == 1
    cause = first["root_cause"]
    assert isinstance(cause, dict)
    assert cause["explanation"] == "Unused imports in num_guess.py."
    assert cause["llm"]["used"] is True and cause["llm"]["cached"] is False
    cached = again["root_cause"]
    assert isinstance(cached, dict) and cached["llm"]["cached"] is True


def test_no_llm_leaves_it_out(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with scripted(completion(ANSWER)) as server:
        monkeypatch.setenv("RECOVEROPS_LLM_BASE_URL", server.url)
        result = analyze(capsys, "--no-llm")
        assert server.requests == []
    cause = result["root_cause"]
    assert isinstance(cause, dict) and "llm" not in cause


def test_an_llm_that_is_down_costs_the_answer_not_the_analysis(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.connectors.fake_server import closed_port_url

    monkeypatch.setenv("RECOVEROPS_LLM_BASE_URL", closed_port_url() + "/v1")
    monkeypatch.setenv("RECOVEROPS_LLM_RETRIES", "0")
    result = analyze(capsys)
    cause = result["root_cause"]
    assert isinstance(cause, dict)
    assert cause["llm"]["used"] is False and cause["llm"]["reason"].startswith("unreachable")
    assert result["fix"] is not None
