"""The files a failing commit changed, from the CI system's own API: what "what changed" lists.

    GitHub   GET /repos/{owner}/{repo}/compare/{base}...{head}   (files[].filename)
             GET /repos/{owner}/{repo}/commits/{sha}              (no passing commit known)
    GitLab   GET /projects/{id}/repository/compare?from=&to=     (diffs[].new_path)
             GET /projects/{id}/repository/commits/{sha}/diff     (no passing commit known)

Against the last passing run's commit when it is known (everything between a pass and this
failure), else the failing commit alone. Best effort: one request with a timeout and no
retries; None ("not known") on any error, never a guess. Jenkins has no such API.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from recoverops.settings import Settings

logger = logging.getLogger("recoverops.connectors")

_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
# A compare lists at most 300 files (GitHub's own limit); the root cause shows the first ones.
MAX_FILES = 300


@dataclass(frozen=True, slots=True)
class CommitRange:
    source: str  # "github" or "gitlab"
    project: str  # owner/repo, or the GitLab project id
    head: str  # the failing commit
    base: str | None = None  # the last passing run's commit, when known


class ChangedFiles(Protocol):
    def __call__(self, commits: CommitRange) -> list[str] | None: ...


class ApiChangedFiles:
    """Changed files from GitHub's and GitLab's REST APIs, configured from the settings."""

    def __init__(
        self,
        *,
        github_api_url: str,
        github_token: str = "",
        gitlab_url: str | None = None,
        gitlab_token: str = "",
        timeout: float = 10.0,
    ) -> None:
        self._github = github_api_url.rstrip("/")
        self._github_token = github_token
        self._gitlab = (gitlab_url or "").rstrip("/")
        self._gitlab_token = gitlab_token
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float = 10.0) -> ApiChangedFiles:
        return cls(
            github_api_url=settings.github_api_url,
            github_token=_secret(settings.github_token),
            gitlab_url=settings.gitlab_url,
            gitlab_token=_secret(settings.gitlab_token),
            timeout=timeout,
        )

    def __call__(self, commits: CommitRange) -> list[str] | None:
        if not _SHA.match(commits.head) or (commits.base and not _SHA.match(commits.base)):
            return None
        base = commits.base if commits.base and commits.base != commits.head else None
        try:
            if commits.source == "github":
                return self._from_github(commits.project, commits.head, base)
            if commits.source == "gitlab" and self._gitlab:
                return self._from_gitlab(commits.project, commits.head, base)
        except (httpx.HTTPError, ValueError) as error:
            # The message names the host at most: no token is ever in it (headers are not).
            logger.warning(
                "changed files of %s unavailable: %s", commits.head, type(error).__name__
            )
        return None

    def _from_github(self, project: str, head: str, base: str | None) -> list[str] | None:
        owner, _, repo = project.partition("/")
        if not owner or not repo:
            return None
        where = f"{self._github}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
        url = f"{where}/compare/{base}...{head}" if base else f"{where}/commits/{head}"
        headers = {
            # GitHub's media type, and plain JSON, which GitHub's description lists and serves too.
            "Accept": "application/vnd.github+json, application/json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "recoverops",
        }
        if self._github_token:
            headers["Authorization"] = f"Bearer {self._github_token}"
        body = self._get(url, headers=headers, params={"per_page": "100"})
        files = body.get("files") if isinstance(body, Mapping) else None
        return _names(files, "filename")

    def _from_gitlab(self, project: str, head: str, base: str | None) -> list[str] | None:
        where = f"{self._gitlab}/api/v4/projects/{quote(project, safe='')}/repository"
        headers = {"PRIVATE-TOKEN": self._gitlab_token} if self._gitlab_token else {}
        if base:
            body = self._get(f"{where}/compare", headers=headers, params={"from": base, "to": head})
            diffs = body.get("diffs") if isinstance(body, Mapping) else None
        else:
            diffs = self._get(f"{where}/commits/{head}/diff", headers=headers, params={})
        return _names(diffs, "new_path")

    def _get(self, url: str, *, headers: dict[str, str], params: dict[str, str]) -> Any:
        with httpx.Client(timeout=self._timeout, follow_redirects=True, max_redirects=3) as client:
            response = client.get(url, headers=headers, params=params)
        if not response.is_success:
            logger.info("changed files: %s answered %d", response.url.host, response.status_code)
            return None
        return response.json()


def _names(entries: Any, key: str) -> list[str] | None:
    if not isinstance(entries, list):
        return None
    names = [e[key] for e in entries if isinstance(e, Mapping) and isinstance(e.get(key), str)]
    return list(dict.fromkeys(names))[:MAX_FILES]


def _secret(value: Any) -> str:
    return "" if value is None else str(value.get_secret_value())
