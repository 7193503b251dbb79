"""Fetching the logs of failed jobs from the CI systems: one module per system, one table.

`fetch_log(JobRef(source="github", project="o/r", job="1"), sources=log_sources(settings))`
answers a `LogResult`: status "ok" with the text, or "unavailable" with the reason. It never raises.
A log placed under RECOVEROPS_HOME for the job (`recoverops replay --log`, see `placed`) comes
first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from recoverops.connectors.base import JobRef, LogResult, LogSource, Retry
from recoverops.connectors.github import GitHubLogs
from recoverops.connectors.gitlab import GitLabLogs
from recoverops.connectors.jenkins import JenkinsLogs
from recoverops.connectors.placed import PlacedFirst, PlacedLogs
from recoverops.settings import Settings


class LogSourceFactory(Protocol):
    def __call__(
        self, settings: Settings, *, retry: Retry | None = ..., timeout: float = ...
    ) -> LogSource: ...


LOG_SOURCES: Mapping[str, LogSourceFactory] = {
    "github": GitHubLogs.from_settings,
    "gitlab": GitLabLogs.from_settings,
    "jenkins": JenkinsLogs.from_settings,
}


def log_sources(
    settings: Settings, *, retry: Retry | None = None, timeout: float = 30.0
) -> dict[str, LogSource]:
    """Every registered source, configured from `settings` (an unconfigured one says so), each
    behind the logs placed under the settings' home."""
    placed = PlacedLogs(settings.home, max_bytes=settings.max_log_bytes)
    return {
        name: PlacedFirst(placed, factory(settings, retry=retry, timeout=timeout))
        for name, factory in LOG_SOURCES.items()
    }


def fetch_log(ref: JobRef, *, sources: Mapping[str, LogSource]) -> LogResult:
    source = sources.get(ref.source)
    if source is None:
        return LogResult.unavailable(f"no log source for {ref.source!r}")
    return source.fetch(ref)


__all__ = [
    "LOG_SOURCES",
    "JobRef",
    "LogResult",
    "LogSource",
    "LogSourceFactory",
    "Retry",
    "fetch_log",
    "log_sources",
]
