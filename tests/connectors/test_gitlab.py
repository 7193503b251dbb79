from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from recoverops.connectors import JobRef, Retry
from recoverops.connectors.gitlab import GitLabLogs
from tests.connectors.conftest import Sleeps, case_log
from tests.connectors.fake_server import FakeServer, Reply, closed_port_url

TOKEN = "glpat-s3cr3tT0k3nNeverToBeSeen"
REF = JobRef(source="gitlab", project="42", job="7")
TRACE = "/api/v4/projects/42/jobs/7/trace"
LOG = case_log("gitlab-git-fetch-could-not-resolve-host")


def gitlab_logs(
    url: str | None,
    retry: Retry,
    *,
    token: str | None = TOKEN,
    max_bytes: int = 1 << 20,
    timeout: float = 5.0,
) -> GitLabLogs:
    return GitLabLogs(
        url=url,
        token=SecretStr(token) if token is not None else None,
        max_bytes=max_bytes,
        retry=retry,
        timeout=timeout,
    )


def test_fetches_the_trace_with_one_request(server: FakeServer, retry: Retry) -> None:
    server.route(TRACE, Reply(200, LOG, {"Content-Type": "text/plain"}))

    result = gitlab_logs(server.url, retry).fetch(REF)

    assert (result.status, result.text, result.attempts) == ("ok", LOG.decode(), 1)
    # Lazy objects: no /version, no /user, no project or job lookup; and python-gitlab's own
    # retry switches are not leaked into the query string.
    assert server.paths() == [TRACE]
    assert server.seen[0].headers["private-token"] == TOKEN


def test_a_project_path_is_encoded(server: FakeServer, retry: Retry) -> None:
    server.route("/api/v4/projects/group%2Fsub%2Fapp/jobs/7/trace", Reply(200, LOG))

    result = gitlab_logs(server.url, retry).fetch(JobRef("gitlab", "group/sub/app", "7"))

    assert result.status == "ok"


def test_404(server: FakeServer, retry: Retry) -> None:
    server.route(TRACE, Reply(404, b'{"message": "404 Not found"}'))

    result = gitlab_logs(server.url, retry).fetch(REF)

    assert result.reason == "logs unavailable: GitLab answered 404 (job not found)"
    assert result.attempts == 1


def test_401_is_bad_credentials_and_secret_free(
    server: FakeServer, retry: Retry, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    server.route(TRACE, Reply(401, b'{"message": "401 Unauthorized"}'))

    with caplog.at_level(logging.DEBUG, logger="recoverops"):
        result = gitlab_logs(server.url, retry).fetch(REF)

    assert result.reason == "logs unavailable: GitLab answered 401 (bad credentials)"
    assert sleeps == []
    assert TOKEN not in caplog.text


def test_500_then_200_is_retried(server: FakeServer, retry: Retry, sleeps: Sleeps) -> None:
    server.route(TRACE, Reply(500), Reply(200, LOG))

    result = gitlab_logs(server.url, retry).fetch(REF)

    assert (result.status, result.attempts, sleeps) == ("ok", 2, [0.5])


def test_429_honours_retry_after(server: FakeServer, retry: Retry, sleeps: Sleeps) -> None:
    server.route(TRACE, Reply(429, headers={"Retry-After": "4"}), Reply(200, LOG))

    result = gitlab_logs(server.url, retry).fetch(REF)

    assert (result.status, sleeps) == ("ok", [4.0])  # ours, not python-gitlab's real sleep


def test_timeout(server: FakeServer, retry: Retry, sleeps: Sleeps) -> None:
    server.route(TRACE, Reply(hang=True))

    result = gitlab_logs(server.url, retry, timeout=0.2).fetch(REF)

    assert result.reason == "logs unavailable: GitLab timed out after 3 attempts"
    assert len(sleeps) == 2


def test_connection_refused(retry: Retry) -> None:
    url = closed_port_url()

    result = gitlab_logs(url, retry).fetch(REF)

    host = url.removeprefix("http://")
    assert result.reason == (
        f"logs unavailable: cannot reach GitLab at {host} (ConnectionError) after 3 attempts"
    )


def test_size_limit_keeps_the_tail(server: FakeServer, retry: Retry) -> None:
    noise = b"".join(b"section_start:%d:noise\n" % i for i in range(50_000))
    server.route(TRACE, Reply(200, noise + LOG))

    result = gitlab_logs(server.url, retry, max_bytes=2048).fetch(REF)

    assert result.truncated and (result.text or "").endswith(LOG.decode())
    assert result.bytes_read == len(noise) + len(LOG)


@pytest.mark.parametrize(
    ("url", "token", "why"),
    [
        (None, TOKEN, "no GitLab URL configured (RECOVEROPS_GITLAB_URL)"),
        ("http://127.0.0.1:9", None, "no GitLab token configured (RECOVEROPS_GITLAB_TOKEN)"),
    ],
)
def test_missing_settings(retry: Retry, url: str | None, token: str | None, why: str) -> None:
    result = gitlab_logs(url, retry, token=token).fetch(REF)

    assert result.reason == f"logs unavailable: {why}"
