"""GitLab CI job traces through python-gitlab.

The project and job are fetched lazily, so the only request is
GET /api/v4/projects/:id/jobs/:job_id/trace. python-gitlab's own retries (which sleep for real) are
turned off: the base runner retries, with its backoff and its limits.
"""

from __future__ import annotations

from typing import Any, Self

import gitlab
from pydantic import SecretStr

from recoverops.connectors.base import (
    BaseLogSource,
    Failure,
    JobRef,
    Retry,
    TailBuffer,
    is_retryable_status,
    status_failure,
    where,
)
from recoverops.settings import Settings

_MEANINGS = {403: "forbidden: the token cannot read this project's jobs", 404: "job not found"}
_CHUNK = 64 * 1024


class GitLabLogs(BaseLogSource):
    name = "GitLab"

    def __init__(
        self,
        *,
        url: str | None,
        token: SecretStr | None,
        max_bytes: int,
        retry: Retry | None = None,
        timeout: float = 30.0,
    ) -> None:
        secret = token.get_secret_value() if token is not None else ""
        super().__init__(max_bytes=max_bytes, retry=retry, timeout=timeout, secrets=[secret])
        self._url = url
        self._token = secret

    @classmethod
    def from_settings(
        cls, settings: Settings, *, retry: Retry | None = None, timeout: float = 30.0
    ) -> Self:
        return cls(
            url=settings.gitlab_url,
            token=settings.gitlab_token,
            max_bytes=settings.max_log_bytes,
            retry=retry,
            timeout=timeout,
        )

    def _precheck(self, ref: JobRef) -> str | None:
        if not self._url:
            return "no GitLab URL configured (RECOVEROPS_GITLAB_URL)"
        if not self._token:
            return "no GitLab token configured (RECOVEROPS_GITLAB_TOKEN)"
        if not ref.project:
            return "invalid GitLab project: empty"
        if not ref.job.isdigit():
            return f"invalid GitLab job id {ref.job!r}: expected a number"
        return None

    def _attempt(self, ref: JobRef, sink: TailBuffer) -> Failure | None:
        assert self._url is not None  # _precheck saw to it
        retry_after: list[str | None] = [None]

        def remember_retry_after(response: Any, *_args: Any, **_kwargs: Any) -> None:
            retry_after[0] = response.headers.get("Retry-After")

        try:
            with gitlab.Gitlab(self._url, private_token=self._token, timeout=self.timeout) as gl:
                gl.session.hooks["response"].append(remember_retry_after)
                job = gl.projects.get(ref.project, lazy=True).jobs.get(int(ref.job), lazy=True)
                chunks = job.trace(
                    streamed=True,
                    iterator=True,
                    chunk_size=_CHUNK,
                    obey_rate_limit=False,
                    retry_transient_errors=False,
                )
                for chunk in chunks:
                    sink.write(chunk)
        except gitlab.GitlabError as exc:
            code = exc.response_code
            if code is None:
                return Failure(f"GitLab refused the request ({type(exc).__name__})")
            return status_failure(
                "GitLab",
                code,
                meanings=_MEANINGS,
                retry_after=retry_after[0] if is_retryable_status(code) else None,
            )
        except OSError as exc:  # requests' errors are OSErrors
            if _is_timeout(exc):
                return Failure("GitLab timed out", retryable=True)
            return Failure(
                f"cannot reach GitLab at {where(self._url)} ({type(exc).__name__})", True
            )
        return None


def _is_timeout(exc: BaseException) -> bool:
    """requests' timeouts, known by name (requests ships no type stubs): a read timeout mid-body
    arrives as a ConnectionError wrapping urllib3's ReadTimeoutError."""
    names = {"Timeout", "ReadTimeoutError", "ConnectTimeoutError", "TimeoutError"}
    for _ in range(5):
        if any(cls.__name__ in names for cls in type(exc).__mro__):
            return True
        wrapped = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        if wrapped is None:
            return False
        exc = wrapped
    return False
