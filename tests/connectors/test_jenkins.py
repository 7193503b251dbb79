from __future__ import annotations

import base64
import logging

import pytest
from pydantic import SecretStr

from recoverops.connectors import JobRef, Retry
from recoverops.connectors.jenkins import JenkinsLogs
from tests.connectors.conftest import Sleeps, case_log
from tests.connectors.fake_server import FakeServer, Reply

TOKEN = "11aaJenkinsApiTokenNeverToBeSeen"
REF = JobRef(source="jenkins", project="team/app", job="12")
CONSOLE = "/job/team/job/app/12/consoleText"
LOG = case_log("jenkins-e3sm-test-all-scream-fail")


def jenkins(
    url: str | None,
    retry: Retry,
    *,
    user: str | None = "robot",
    token: str | None = TOKEN,
    max_bytes: int = 1 << 20,
    timeout: float = 5.0,
) -> JenkinsLogs:
    return JenkinsLogs(
        url=url,
        user=user,
        token=SecretStr(token) if token is not None else None,
        max_bytes=max_bytes,
        retry=retry,
        timeout=timeout,
    )


def test_fetches_the_console_text_of_a_job_in_a_folder(server: FakeServer, retry: Retry) -> None:
    server.route(CONSOLE, Reply(200, LOG, {"Content-Type": "text/plain;charset=utf-8"}))

    result = jenkins(server.url, retry).fetch(REF)

    assert (result.status, result.text, result.attempts) == ("ok", LOG.decode(), 1)
    assert server.paths() == [CONSOLE]  # no crumb request: a GET needs none
    expected = base64.b64encode(f"robot:{TOKEN}".encode()).decode()
    assert server.seen[0].headers["authorization"] == f"Basic {expected}"


def test_anonymous_when_no_credentials(server: FakeServer, retry: Retry) -> None:
    server.route(CONSOLE, Reply(200, LOG))

    result = jenkins(server.url + "/", retry, user=None, token=None).fetch(REF)

    assert result.status == "ok"
    assert "authorization" not in server.seen[0].headers


def test_404(server: FakeServer, retry: Retry) -> None:
    server.route(CONSOLE, Reply(404))

    result = jenkins(server.url, retry).fetch(REF)

    assert result.reason == "logs unavailable: Jenkins answered 404 (job or build not found)"


def test_401(server: FakeServer, retry: Retry, caplog: pytest.LogCaptureFixture) -> None:
    server.route(CONSOLE, Reply(401))

    with caplog.at_level(logging.DEBUG, logger="recoverops"):
        result = jenkins(server.url, retry).fetch(REF)

    assert result.reason == "logs unavailable: Jenkins answered 401 (bad credentials)"
    assert TOKEN not in caplog.text


def test_503_then_200_is_retried(server: FakeServer, retry: Retry, sleeps: Sleeps) -> None:
    server.route(CONSOLE, Reply(503, headers={"Retry-After": "2"}), Reply(200, LOG))

    result = jenkins(server.url, retry).fetch(REF)

    assert (result.status, result.attempts, sleeps) == ("ok", 2, [2.0])


def test_timeout(server: FakeServer, retry: Retry) -> None:
    server.route(CONSOLE, Reply(hang=True))

    result = jenkins(server.url, retry, timeout=0.2).fetch(REF)

    assert result.reason == "logs unavailable: Jenkins timed out after 3 attempts"


def test_size_limit_keeps_the_tail(server: FakeServer, retry: Retry) -> None:
    noise = b"[Pipeline] echo\n" * 10_000
    server.route(CONSOLE, Reply(200, noise + LOG))

    result = jenkins(server.url, retry, max_bytes=len(LOG) + 5).fetch(REF)

    assert result.truncated and result.text == LOG.decode()  # from the first whole line


@pytest.mark.parametrize(
    ("url", "user", "token", "why"),
    [
        (None, "robot", TOKEN, "no Jenkins URL configured (RECOVEROPS_JENKINS_URL)"),
        (
            "http://127.0.0.1:9",
            "robot",
            None,
            "RECOVEROPS_JENKINS_USER and RECOVEROPS_JENKINS_TOKEN must be set together",
        ),
    ],
)
def test_missing_settings(
    retry: Retry, url: str | None, user: str | None, token: str | None, why: str
) -> None:
    result = jenkins(url, retry, user=user, token=token).fetch(REF)

    assert result.reason == f"logs unavailable: {why}"


@pytest.mark.parametrize(("project", "job"), [("team//app", "12"), ("app", "1/2"), ("app", "")])
def test_malformed_refs_are_refused(
    server: FakeServer, retry: Retry, project: str, job: str
) -> None:
    result = jenkins(server.url, retry).fetch(JobRef("jenkins", project, job))

    assert result.status == "unavailable" and "invalid Jenkins" in (result.reason or "")
    assert server.seen == []
