"""Jenkins console text: GET {url}/job/{name}/{number}/consoleText, streamed.

Through httpx rather than python-jenkins: `get_build_console_output` reads the whole console into
memory, first asks the crumb issuer, and reports 429 and 503 as "does not exist", which would hide
the cases worth retrying.
"""

from __future__ import annotations

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

_MEANINGS = {403: "forbidden: the user cannot read this job", 404: "job or build not found"}


class JenkinsLogs(BaseLogSource):
    name = "Jenkins"

    def __init__(
        self,
        *,
        url: str | None,
        user: str | None,
        token: SecretStr | None,
        max_bytes: int,
        retry: Retry | None = None,
        timeout: float = 30.0,
    ) -> None:
        secret = token.get_secret_value() if token is not None else ""
        super().__init__(max_bytes=max_bytes, retry=retry, timeout=timeout, secrets=[secret])
        self._url = (url or "").rstrip("/")
        self._user = user or ""
        self._token = secret

    @classmethod
    def from_settings(
        cls, settings: Settings, *, retry: Retry | None = None, timeout: float = 30.0
    ) -> Self:
        return cls(
            url=settings.jenkins_url,
            user=settings.jenkins_user,
            token=settings.jenkins_token,
            max_bytes=settings.max_log_bytes,
            retry=retry,
            timeout=timeout,
        )

    def _precheck(self, ref: JobRef) -> str | None:
        if not self._url:
            return "no Jenkins URL configured (RECOVEROPS_JENKINS_URL)"
        if bool(self._user) != bool(self._token):
            return "RECOVEROPS_JENKINS_USER and RECOVEROPS_JENKINS_TOKEN must be set together"
        if not all(ref.project.split("/")):
            return f"invalid Jenkins job name {ref.project!r}"
        if not ref.job or "/" in ref.job:
            return f"invalid Jenkins build number {ref.job!r}"
        return None

    def _attempt(self, ref: JobRef, sink: TailBuffer) -> Failure | None:
        # A job in folders, "team/app", lives at /job/team/job/app.
        path = "".join(f"/job/{quote(part, safe='')}" for part in ref.project.split("/"))
        url = f"{self._url}{path}/{quote(ref.job, safe='')}/consoleText"
        auth = httpx.BasicAuth(self._user, self._token) if self._user else None
        with httpx.Client(
            auth=auth,
            headers={"User-Agent": "recoverops"},
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=True,
            max_redirects=3,
        ) as client:
            return stream_get(client, url, sink, who="Jenkins", on_status=_describe)


def _describe(response: httpx.Response) -> Failure:
    retry_after = response.headers.get("Retry-After")
    return status_failure(
        "Jenkins", response.status_code, meanings=_MEANINGS, retry_after=retry_after
    )
