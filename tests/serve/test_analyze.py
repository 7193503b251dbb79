"""POST /analyze: the detector over HTTP, on real logs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.redaction import MASK
from recoverops.serve import create_app
from tests.auth_tokens import bearer
from tests.planted_secrets import leaks, plant
from tests.serve.harness import CASES, Backend, github_headers, payload_bytes
from tests.serve.test_github import FAILED_JOB

CASE_LOGS = sorted(CASES.glob("*/log.txt"))
SUREFIRE = CASES / "plain-maven-surefire-failure" / "log.txt"


def test_a_log_as_text_gets_the_analysis_the_cli_gives(sqlite_client: TestClient) -> None:
    raw = SUREFIRE.read_bytes()

    response = sqlite_client.post(
        "/analyze", content=raw, headers={"Content-Type": "text/plain; charset=utf-8"}
    )

    assert response.status_code == 200
    answer = response.json()
    text = raw.decode()
    assert answer == diagnose(analyze_text(text), text=text).to_json()
    assert answer["category"] == "build.test"
    assert any("<<< FAILURE!" in evidence["text"] for evidence in answer["evidence"])


@pytest.mark.parametrize("log", CASE_LOGS[:3] + CASE_LOGS[-3:], ids=lambda path: path.parent.name)
def test_a_log_as_json_gets_the_same_analysis(sqlite_client: TestClient, log: Path) -> None:
    raw = log.read_bytes()
    as_text = sqlite_client.post("/analyze", content=raw, headers={"Content-Type": "text/plain"})
    as_json = sqlite_client.post("/analyze", json={"log": raw.decode("utf-8", "replace")})

    assert as_text.status_code == as_json.status_code == 200
    assert as_text.json() == as_json.json()


@pytest.mark.parametrize(
    ("content", "content_type", "detail"),
    [
        (b"  \n\t\n", "text/plain", "log: empty input, nothing to analyze"),
        (b"\x00\x01\x02binary\x00" * 20, "text/plain", "log: binary data, not a text log"),
        (b'{"text": "x"}', "application/json", 'JSON body must be {"log": "<the log text>"}'),
        (b'{"log": 3}', "application/json", 'JSON body must be {"log": "<the log text>"}'),
        (b'{"log": ""}', "application/json", "log: empty input, nothing to analyze"),
        (b"[]", "application/json", "body is a JSON list, not an object"),
    ],
    ids=["blank", "binary", "no-log", "log-number", "log-empty", "array"],
)
def test_what_is_no_log_is_refused_with_the_reason(
    sqlite_client: TestClient, content: bytes, content_type: str, detail: str
) -> None:
    response = sqlite_client.post(
        "/analyze", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": detail, "reason": "malformed"}


def test_a_planted_secret_never_comes_back(sqlite_client: TestClient) -> None:
    """What the dashboard and any client read: the same masked analysis as the CLI."""
    planted = plant("github classic")
    lines = SUREFIRE.read_text("utf-8").split("\n")
    failure = next(n for n, line in enumerate(lines) if "<<< FAILURE!" in line)
    lines[failure] += f" ({planted.line})"

    response = sqlite_client.post("/analyze", json={"log": "\n".join(lines)})

    assert response.status_code == 200
    assert leaks(planted.secret, response.text) == []
    assert any(f"{planted.shown}{MASK}" in e["text"] for e in response.json()["evidence"])


def test_analyses_beyond_the_limit_get_429_while_webhooks_still_get_202(
    sqlite_backend: Backend,
) -> None:
    limit = 2
    entered = threading.Semaphore(0)
    release = threading.Event()

    def slow_model(analysis: Analysis) -> Analysis:
        # Holds its analysis' place, as a long log or a slow model would.
        entered.release()
        assert release.wait(30), "the test never released the analyses"
        return analysis

    settings = sqlite_backend.settings.model_copy(update={"analyze_concurrency": limit})
    app = create_app(
        settings, store=sqlite_backend.store, queue=sqlite_backend.queue, refine=slow_model
    )
    log = SUREFIRE.read_bytes()
    text = {"Content-Type": "text/plain"}
    with TestClient(app, headers=bearer()) as client, ThreadPoolExecutor(limit) as pool:
        running = [
            pool.submit(client.post, "/analyze", content=log, headers=text) for _ in range(limit)
        ]
        for _ in range(limit):
            assert entered.acquire(timeout=30), "an analysis did not start"

        refused = client.post("/analyze", content=log, headers=text)
        raw = payload_bytes(f"github/{FAILED_JOB}")
        webhook = client.post(
            "/webhooks/github", content=raw, headers=github_headers("workflow_job", "busy", raw)
        )
        release.set()
        answered = [future.result(timeout=30) for future in running]
        after = client.post("/analyze", content=log, headers=text)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["reason"] == "busy"
    assert webhook.status_code == 202 and webhook.json()["failure"] is True
    assert [response.status_code for response in answered] == [200, 200]
    assert after.status_code == 200  # the places are given back
