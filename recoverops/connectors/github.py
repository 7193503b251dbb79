"""GitHub Actions job logs: the job-logs endpoint, which redirects to a short-lived blob URL.

httpx follows the redirect and drops the Authorization header when it leaves the API's origin, so
the token never reaches the blob host (tests/connectors/test_github.py proves it).
"""

from __future__ import annotations

import email.utils
from typing import Self
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from recoverops.connectors.base import (
    BaseLogSource,
    Failure,
    JobRef,
    Retry,
    TailBuffer,
    status_failure,
    stream_get,
)
from recoverops.settings import Settings

_API_MEANINGS = {
    403: "forbidden: the token cannot read this repository's Actions logs",
    404: "logs expired or job not found",
    410: "logs expired",
}
_STORAGE_MEANINGS = {403: "the download link expired or was refused", 404: "log not found"}


class GitHubLogs(BaseLogSource):
    name = "GitHub"

    def __init__(
        self,
        *,
        api_url: str,
        token: SecretStr | None,
        max_bytes: int,
        retry: Retry | None = None,
        timeout: float = 30.0,
    ) -> None:
        secret = token.get_secret_value() if token is not None else ""
        super().__init__(max_bytes=max_bytes, retry=retry, timeout=timeout, secrets=[secret])
        self._api_url = api_url.rstrip("/")
        self._token = secret

    @classmethod
    def from_settings(
        cls, settings: Settings, *, retry: Retry | None = None, timeout: float = 30.0
    ) -> Self:
        return cls(
            api_url=settings.github_api_url,
            token=settings.github_token,
            max_bytes=settings.max_log_bytes,
            retry=retry,
            timeout=timeout,
        )

    def _precheck(self, ref: JobRef) -> str | None:
        if not self._token:
            return "no GitHub token configured (RECOVEROPS_GITHUB_TOKEN)"
        owner, _, repo = ref.project.partition("/")
        if not owner or not repo or "/" in repo:
            return f"invalid GitHub repository {ref.project!r}: expected owner/repo"
        if not ref.job.isdigit():
            return f"invalid GitHub job id {ref.job!r}: expected a number"
        return None

    def _attempt(self, ref: JobRef, sink: TailBuffer) -> Failure | None:
        owner, _, repo = ref.project.partition("/")
        url = (
            f"{self._api_url}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
            f"/actions/jobs/{ref.job}/logs"
        )
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "recoverops",
        }
        with httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=True,
            max_redirects=3,
        ) as client:
            return stream_get(client, url, sink, who="GitHub", on_status=_describe)


def _describe(response: httpx.Response) -> Failure:
    code = response.status_code
    if response.history:  # the API redirected and the log storage answered
        return status_failure("GitHub's log storage", code, meanings=_STORAGE_MEANINGS)
    retry_after = response.headers.get("Retry-After")
    if code == 403 and response.headers.get("X-RateLimit-Remaining") == "0":
        reset = response.headers.get("X-RateLimit-Reset", "")
        if retry_after is None and reset.isdigit():
            retry_after = email.utils.formatdate(int(reset), usegmt=True)
        return Failure("GitHub answered 403 (rate limit exceeded)", True, retry_after)
    return status_failure("GitHub", code, meanings=_API_MEANINGS, retry_after=retry_after)
