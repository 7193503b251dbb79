from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

import recoverops.connectors as connectors
from recoverops.connectors import LOG_SOURCES, JobRef, Retry, fetch_log, log_sources
from recoverops.connectors.placed import PlacedFirst
from recoverops.settings import Settings
from tests.connectors.conftest import case_log
from tests.connectors.fake_server import FakeServer, Reply


def test_exported_members() -> None:
    exported = {name for name in dir(connectors) if not name.startswith("_")}
    modules = {"base", "changes", "github", "gitlab", "jenkins", "placed"}
    assert exported - modules - {"annotations", "Mapping", "Protocol", "Settings"} == set(
        connectors.__all__
    ) | {"GitHubLogs", "GitLabLogs", "JenkinsLogs", "PlacedFirst", "PlacedLogs"}


def test_one_registry_line_per_source() -> None:
    assert set(LOG_SOURCES) == {"github", "gitlab", "jenkins"}


def test_sources_are_configured_from_settings(
    server: FakeServer, retry: Retry, tmp_path: Path
) -> None:
    log = case_log("github-docker-pull-manifest-unknown")
    server.route("/api/v3/repos/o/r/actions/jobs/5/logs", Reply(200, log))
    settings = Settings(
        home=tmp_path,
        github_api_url=f"{server.url}/api/v3/",
        github_token=SecretStr("t0ken"),
        max_log_bytes=100,
    )

    sources = log_sources(settings, retry=retry, timeout=5.0)

    assert all(isinstance(s, PlacedFirst) for s in sources.values())
    result = fetch_log(JobRef("github", "o/r", "5"), sources=sources)
    assert result.status == "ok" and result.truncated and len(result.text or "") <= 100
    unconfigured = fetch_log(JobRef("jenkins", "app", "1"), sources=sources)
    assert unconfigured.reason == (
        "logs unavailable: no Jenkins URL configured (RECOVEROPS_JENKINS_URL)"
    )


def test_an_unknown_source_is_unavailable() -> None:
    result = fetch_log(JobRef("travis", "o/r", "1"), sources={})
    assert result.reason == "logs unavailable: no log source for 'travis'"
