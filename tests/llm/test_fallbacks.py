"""Whatever goes wrong with the LLM, the diagnosis without it stands, with the reason recorded in
the root cause: a timeout, a server that is down, errors, garbage, an answer that breaks the
schema, a refusal. Against real HTTP servers on 127.0.0.1 that misbehave as told."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from tests.connectors.fake_server import closed_port_url
from tests.llm.scripted_server import Scripted, completion, scripted
from tests.llm.support import FLAKE8, OOM, advisor, with_llm, without_llm
from tests.planted_secrets import KINDS, leaks, plant

GOOD = json.dumps({"explanation": "flake8 found unused imports.", "fix": 0, "confidence": 0.7})


def fell_back(result: Analysis, baseline: Analysis) -> str:
    """The reason recorded, after checking that `result` is the diagnosis without the LLM."""
    llm = result.root_cause.llm
    assert llm is not None and llm["used"] is False
    assert replace(result.root_cause, llm=None) == baseline.root_cause
    assert result.fix == baseline.fix
    reason: str = llm["reason"]
    assert reason
    return reason


def test_without_an_llm_the_root_cause_says_nothing_of_one() -> None:
    result = without_llm(FLAKE8.read_text())
    assert result.root_cause.llm is None
    assert "llm" not in result.to_json()["root_cause"]


def test_a_server_that_does_not_answer_in_time_is_tried_again_then_given_up() -> None:
    text = FLAKE8.read_text()
    with scripted(Scripted(hang=True)) as server:
        result = with_llm(text, advisor(server.url, timeout_s=0.5, retries=1))
        assert len(server.requests) == 2  # the first try and one retry
    reason = fell_back(result, without_llm(text))
    assert reason.startswith("timeout: no answer within 0.5 s (2 tries)")


def test_a_server_that_is_down_falls_back() -> None:
    text = FLAKE8.read_text()
    result = with_llm(text, advisor(closed_port_url() + "/v1", retries=1))
    assert fell_back(result, without_llm(text)).startswith("unreachable: ")


def test_a_server_error_is_retried_then_falls_back() -> None:
    text = OOM.read_text()
    with scripted(Scripted(status=500, body=b'{"error": "boom"}')) as server:
        result = with_llm(text, advisor(server.url, retries=2))
        assert len(server.requests) == 3
    assert fell_back(result, without_llm(text)) == "server answered HTTP 500"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Scripted(body=b"<html>502 Bad Gateway</html>", content_type="text/html"), "garbage"),
        (Scripted(body=b"\x00\xff{{{not json"), "garbage"),
        (Scripted(body=b'{"hello": "world"}'), "garbage"),
        (completion("The build failed because of imports."), "invalid answer: schema"),
        (completion('{"explanation": "x", "fix": 0}'), "invalid answer: schema: confidence"),
        (completion('{"explanation": "x", "fix": 0, "confidence": 7}'), "invalid answer"),
        (completion('{"explanation": "", "fix": 0, "confidence": 0.5}'), "invalid answer"),
        (completion('{"explanation": "x", "fix": "0", "confidence": 0.5}'), "invalid answer"),
        (completion(""), "invalid answer: empty answer"),
    ],
    ids=[
        "html",
        "bytes",
        "another-shape",
        "prose",
        "missing-field",
        "confidence-out-of-range",
        "empty-explanation",
        "fix-as-string",
        "empty",
    ],
)
def test_garbage_falls_back(reply: Scripted, reason: str) -> None:
    text = FLAKE8.read_text()
    with scripted(reply) as server:
        result = with_llm(text, advisor(server.url))
        assert len(server.requests) == 1  # garbage is not asked again
    assert fell_back(result, without_llm(text)).startswith(reason)


def test_a_refusal_falls_back() -> None:
    text = FLAKE8.read_text()
    with scripted(completion("", refusal="I cannot help with that.")) as server:
        result = with_llm(text, advisor(server.url))
    assert fell_back(result, without_llm(text)) == "refused: I cannot help with that."


def test_a_checked_answer_is_used_and_the_request_carries_the_schema() -> None:
    text = FLAKE8.read_text()
    baseline = without_llm(text)
    with scripted(completion(GOOD)) as server:
        result = with_llm(text, advisor(server.url))
        (request,) = server.requests
    llm = result.root_cause.llm
    assert llm is not None and llm["used"] is True and llm["cached"] is False
    assert (llm["fix"], llm["confidence"]) == (0, 0.7)
    assert (llm["prompt_tokens"], llm["completion_tokens"]) == (10, 5)
    assert llm["explanation_without_llm"] == baseline.root_cause.explanation
    assert result.root_cause.explanation == "flake8 found unused imports."
    assert result.root_cause.components == baseline.root_cause.components
    assert result.fix == baseline.fix
    schema = request["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["fix"]["enum"] == [0, None]
    assert schema["additionalProperties"] is False
    assert request["max_tokens"] == 300


def test_the_llm_sees_the_redacted_context_only() -> None:
    planted = [plant(kind) for kind in KINDS]
    # Each secret in a finding of flake8's: in the failure chunk and the components' details.
    findings = [
        f"./settings.py:{n}:80: E501 line too long (120 > 79 characters) {p.line}"
        for n, p in enumerate(planted, start=1)
    ]
    text = "\n".join([*FLAKE8.read_text().splitlines()[:3], *findings]) + "\n"
    with scripted(completion(GOOD)) as server:
        result = with_llm(text, advisor(server.url))
        (request,) = server.requests
    assert result.root_cause.llm is not None and result.root_cause.llm["used"] is True
    prompt = json.dumps(request)
    assert "[redacted]" in prompt  # the chunk with its secrets was sent, masked
    for secret in planted:
        assert leaks(secret.secret, prompt) == [], secret.line


def test_the_context_is_cut_to_its_budget() -> None:
    # A long failure: flake8's findings many times over.
    lines = FLAKE8.read_text().splitlines()
    text = "\n".join(lines * 20) + "\n"
    budget = 600
    with scripted(completion(GOOD)) as server:
        result = with_llm(text, advisor(server.url, context_tokens=budget))
        (request,) = server.requests
    llm = result.root_cause.llm
    assert llm is not None and llm["used"] is True
    assert llm["context_tokens"] <= budget
    assert any("chunk line" in cut for cut in llm["cut"])
    sent = "".join(m["content"] for m in request["messages"])
    assert len(sent) <= budget * 3


def test_the_lines_changed_since_the_last_pass_are_shown_redacted() -> None:
    passing = FLAKE8.read_text()
    token = plant("github classic")
    text = f"warning: unused import sys in setup hook\n{token.line}\n{passing}"
    with scripted(completion(GOOD)) as server:
        diagnose(analyze_text(text), text=text, advisor=advisor(server.url), passing_text=passing)
        (request,) = server.requests
    prompt = json.loads(request["messages"][1]["content"])
    changed = prompt["changed_since_last_pass"]
    assert any("unused import sys" in line for line in changed), changed
    assert leaks(token.secret, json.dumps(request)) == []
