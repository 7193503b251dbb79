"""Logs placed under the home (`recoverops replay --log`) come before the CI system's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from recoverops.connectors import JobRef, Retry, fetch_log, log_sources
from recoverops.connectors.placed import placed_path
from recoverops.settings import Settings
from tests.connectors.conftest import case_log
from tests.connectors.fake_server import FakeServer, Reply

JOB = JobRef("github", "octo-org/example", "29679449")


def place(home: Path, ref: JobRef, data: bytes) -> Path:
    path = placed_path(home, ref)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_placed_log_is_fetched_before_the_ci_system_is_asked(
    server: FakeServer, retry: Retry, tmp_path: Path
) -> None:
    placed = case_log("github-docker-pull-manifest-unknown")
    server.route(
        "/repos/octo-org/example/actions/jobs/29679449/logs", Reply(200, b"the CI's own log\n")
    )
    settings = Settings(home=tmp_path, github_api_url=server.url, github_token=SecretStr("t0ken"))
    sources = log_sources(settings, retry=retry, timeout=5.0)

    asked = fetch_log(JOB, sources=sources)  # nothing placed yet: GitHub answers
    place(tmp_path, JOB, placed)
    found = fetch_log(JOB, sources=sources)

    assert (asked.status, asked.text) == ("ok", "the CI's own log\n")
    assert found.status == "ok" and found.text == placed.decode()
    assert len(server.seen) == 1  # the placed log needed no request


def test_without_a_placed_log_the_ci_systems_reason_stands(tmp_path: Path) -> None:
    place(tmp_path, JobRef("github", "octo-org/example", "1"), b"another job's log\n")
    result = fetch_log(JOB, sources=log_sources(Settings(home=tmp_path)))
    assert result.reason == (
        "logs unavailable: no GitHub token configured (RECOVEROPS_GITHUB_TOKEN)"
    )


def test_a_placed_log_goes_through_the_same_bounds_and_checks(tmp_path: Path) -> None:
    sources = log_sources(Settings(home=tmp_path, max_log_bytes=40))
    place(tmp_path, JOB, b"".join(b"line %d of a long log\n" % n for n in range(100)))
    bounded = fetch_log(JOB, sources=sources)
    assert bounded.status == "ok" and bounded.truncated
    assert bounded.text == "line 99 of a long log\n"

    place(tmp_path, JOB, b"")
    assert fetch_log(JOB, sources=sources).reason == (
        "logs unavailable: placed log returned an empty log"
    )


@pytest.mark.parametrize(("project", "job"), [("..", "1"), ("o/r", ".."), ("o/r", ""), (".", "1")])
def test_names_that_cannot_be_a_file_have_no_place(tmp_path: Path, project: str, job: str) -> None:
    assert placed_path(tmp_path, JobRef("github", project, job)) is None


def test_a_payloads_names_never_leave_the_placed_folder(tmp_path: Path) -> None:
    path = placed_path(tmp_path, JobRef("jenkins", "../../etc/team/app", "../../passwd"))
    assert path is not None
    assert path.resolve().is_relative_to((tmp_path / "placed-logs" / "jenkins").resolve())
    assert path.parent.parent == tmp_path / "placed-logs" / "jenkins"
