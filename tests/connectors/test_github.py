from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from recoverops.connectors import JobRef, Retry
from recoverops.connectors.github import GitHubLogs
from tests.connectors.conftest import Sleeps, case_log
from tests.connectors.fake_server import FakeServer, Reply, closed_port_url

TOKEN = "ghp_s3cr3tT0k3nNeverToBeSeen"
REF = JobRef(source="github", project="astral-sh/uv", job="41234567")
LOGS = "/repos/astral-sh/uv/actions/jobs/41234567/logs"
BLOB = "/blob/job-logs.txt"
LOG = case_log("github-uv-python-downloads-dns-error")


def github(
    api_url: str,
    retry: Retry,
    *,
    token: str | None = TOKEN,
    max_bytes: int = 1 << 20,
    timeout: float = 5.0,
) -> GitHubLogs:
    return GitHubLogs(
        api_url=api_url,
        token=SecretStr(token) if token is not None else None,
        max_bytes=max_bytes,
        retry=retry,
        timeout=timeout,
    )


def redirect_to(storage: FakeServer) -> Reply:
    return Reply(302, headers={"Location": f"{storage.url}{BLOB}?sig=signed-url-secret"})


def test_follows_the_redirect_and_returns_the_log(
    server: FakeServer, storage: FakeServer, retry: Retry, sleeps: Sleeps
) -> None:
    server.route(LOGS, redirect_to(storage))
    storage.route(BLOB, Reply(200, LOG, {"Content-Type": "text/plain"}))

    result = github(server.url, retry).fetch(REF)

    assert result.status == "ok"
    assert result.text == LOG.decode()
    assert (result.reason, result.truncated, result.attempts) == (None, False, 1)
    assert result.bytes_read == len(LOG)
    assert sleeps == []


def test_sends_the_token_to_the_api_only(
    server: FakeServer, storage: FakeServer, retry: Retry
) -> None:
    server.route(LOGS, redirect_to(storage))
    storage.route(BLOB, Reply(200, LOG))

    github(server.url, retry).fetch(REF)

    [api] = server.seen
    assert api.headers["authorization"] == f"Bearer {TOKEN}"
    assert api.headers["accept"] == "application/vnd.github+json"
    assert api.headers["x-github-api-version"] == "2022-11-28"
    [blob] = storage.seen
    assert blob.path == f"{BLOB}?sig=signed-url-secret"
    assert "authorization" not in blob.headers
    assert TOKEN not in str(blob.headers)


def test_404_says_the_logs_expired_or_the_job_is_unknown(server: FakeServer, retry: Retry) -> None:
    server.route(LOGS, Reply(404, b'{"message": "Not Found"}'))

    result = github(server.url, retry).fetch(REF)

    assert result.status == "unavailable"
    assert result.text is None
    assert result.reason == (
        "logs unavailable: GitHub answered 404 (logs expired or job not found)"
    )
    assert result.attempts == 1


def test_401_is_bad_credentials_and_not_retried(
    server: FakeServer, retry: Retry, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    server.route(LOGS, Reply(401, b'{"message": "Bad credentials"}'))

    with caplog.at_level(logging.DEBUG, logger="recoverops"):
        result = github(server.url, retry).fetch(REF)

    assert result.reason == "logs unavailable: GitHub answered 401 (bad credentials)"
    assert (len(server.seen), sleeps) == (1, [])
    assert TOKEN not in caplog.text
    assert "GitHub answered 401" in caplog.text  # not silent


def test_expired_download_link_names_the_log_storage(
    server: FakeServer, storage: FakeServer, retry: Retry
) -> None:
    server.route(LOGS, redirect_to(storage))
    storage.route(BLOB, Reply(403, b"<Error>AuthenticationFailed</Error>"))

    result = github(server.url, retry).fetch(REF)

    assert result.reason == (
        "logs unavailable: GitHub's log storage answered 403 "
        "(the download link expired or was refused)"
    )
    assert "signed-url-secret" not in (result.reason or "")


def test_500_then_200_is_retried_after_a_backoff(
    server: FakeServer, storage: FakeServer, retry: Retry, sleeps: Sleeps
) -> None:
    server.route(LOGS, Reply(500), Reply(502), redirect_to(storage))
    storage.route(BLOB, Reply(200, LOG))

    result = github(server.url, retry).fetch(REF)

    assert (result.status, result.attempts, result.text) == ("ok", 3, LOG.decode())
    assert sleeps == [0.5, 1.0]  # base 0.5, doubled, jitter pinned at its top


def test_429_honours_retry_after(
    server: FakeServer, storage: FakeServer, retry: Retry, sleeps: Sleeps
) -> None:
    server.route(LOGS, Reply(429, headers={"Retry-After": "7"}), redirect_to(storage))
    storage.route(BLOB, Reply(200, LOG))

    result = github(server.url, retry).fetch(REF)

    assert (result.status, result.attempts) == ("ok", 2)
    assert sleeps == [7.0]


def test_retry_after_beyond_the_limit_gives_up_at_once(
    server: FakeServer, retry: Retry, sleeps: Sleeps
) -> None:
    server.route(LOGS, Reply(429, headers={"Retry-After": "3600"}))

    result = github(server.url, retry).fetch(REF)

    assert result.reason == (
        "logs unavailable: GitHub answered 429 (rate limited); "
        "asked to retry after 3600, beyond the 30s limit"
    )
    assert (result.attempts, sleeps) == (1, [])


def test_primary_rate_limit_waits_for_the_reset(
    server: FakeServer, storage: FakeServer, sleeps: Sleeps
) -> None:
    retry = Retry(sleep=sleeps, now=lambda: 1_700_000_000.0)
    limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000012"}
    server.route(LOGS, Reply(403, headers=limited), redirect_to(storage))
    storage.route(BLOB, Reply(200, LOG))

    result = github(server.url, retry).fetch(REF)

    assert (result.status, sleeps) == ("ok", [12.0])


def test_persistent_5xx_gives_up_after_max_attempts(
    server: FakeServer, retry: Retry, sleeps: Sleeps
) -> None:
    server.route(LOGS, Reply(503))

    result = github(server.url, retry).fetch(REF)

    assert result.reason == (
        "logs unavailable: GitHub answered 503 (service unavailable) after 3 attempts"
    )
    assert (len(server.seen), len(sleeps)) == (3, 2)


def test_timeout(server: FakeServer, retry: Retry, sleeps: Sleeps) -> None:
    server.route(LOGS, Reply(hang=True))

    result = github(server.url, retry, timeout=0.2).fetch(REF)

    assert result.reason == "logs unavailable: GitHub timed out after 3 attempts"
    assert (len(server.seen), len(sleeps)) == (3, 2)


def test_connection_refused(retry: Retry) -> None:
    url = closed_port_url()

    result = github(url, retry).fetch(REF)

    host = url.removeprefix("http://")
    assert result.reason == (
        f"logs unavailable: cannot reach GitHub at {host} (ConnectError) after 3 attempts"
    )


def test_size_limit_keeps_the_tail(server: FakeServer, storage: FakeServer, retry: Retry) -> None:
    noise = b"".join(b"2026-07-29T17:45:00.0000000Z setup line %06d\n" % i for i in range(20_000))
    server.route(LOGS, redirect_to(storage))
    storage.route(BLOB, Reply(200, noise + LOG))

    result = github(server.url, retry, max_bytes=4096).fetch(REF)

    assert result.status == "ok" and result.truncated
    assert result.bytes_read == len(noise) + len(LOG)
    text = result.text or ""
    assert text.endswith(LOG.decode())  # the failure, at the end, is kept whole
    assert len(text.encode()) <= 4096
    assert text.startswith("2026-07-29T17:45:00.0000000Z setup line ")  # from a whole line
    assert (noise + LOG).endswith(text.encode())


def test_missing_token_makes_no_request(server: FakeServer, retry: Retry) -> None:
    result = github(server.url, retry, token=None).fetch(REF)

    assert result.reason == "logs unavailable: no GitHub token configured (RECOVEROPS_GITHUB_TOKEN)"
    assert (result.attempts, server.seen) == (0, [])


@pytest.mark.parametrize(
    ("project", "job", "why"),
    [
        ("astral-sh", "1", "invalid GitHub repository 'astral-sh': expected owner/repo"),
        ("a/b/c", "1", "invalid GitHub repository 'a/b/c': expected owner/repo"),
        ("astral-sh/uv", "../1", "invalid GitHub job id '../1': expected a number"),
    ],
)
def test_malformed_refs_are_refused(
    server: FakeServer, retry: Retry, project: str, job: str, why: str
) -> None:
    result = github(server.url, retry).fetch(JobRef("github", project, job))

    assert result.reason == f"logs unavailable: {why}"
    assert server.seen == []


def test_empty_log_is_unavailable(server: FakeServer, storage: FakeServer, retry: Retry) -> None:
    server.route(LOGS, redirect_to(storage))
    storage.route(BLOB, Reply(200, b"\n  \n"))

    result = github(server.url, retry).fetch(REF)

    assert result.reason == "logs unavailable: GitHub returned an empty log"
