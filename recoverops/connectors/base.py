"""The log-source interface and the base runner every source builds on.

A source implements its own step only: `_precheck` (what stops a fetch before any request) and
`_attempt` (make one request and write the bytes it receives into a sink, or say why it could not).
The base runner does the shared work: retries with exponential backoff and jitter (honouring
Retry-After; tenacity runs the attempts), the size bound (keeping the tail, where a CI log's
failure is), decoding, redaction of secrets, timing and logging. `fetch` returns a `LogResult`
and never raises.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import httpx
from tenacity import RetryCallState, Retrying, retry_if_result

from recoverops.errors import BinaryInputError, EmptyInputError
from recoverops.inputs import decode_log

logger = logging.getLogger("recoverops.connectors")

Status = Literal["ok", "unavailable"]
_REDACTED = "***"


@dataclass(frozen=True, slots=True)
class JobRef:
    """Which job's log to fetch, named as the source system names it.

    | source    | project                              | job               |
    |-----------|--------------------------------------|-------------------|
    | `github`  | `owner/repo`                         | the job id        |
    | `gitlab`  | the project id or `group/project`    | the job id        |
    | `jenkins` | the job's full name (`folder/name`)  | the build number  |
    """

    source: str
    project: str
    job: str


@dataclass(frozen=True, slots=True)
class LogResult:
    """A job's log, or why there is none.

    `reason` starts with "logs unavailable: " so that it can go on an incident as it is.
    When `truncated`, `text` is the last `max_bytes` of the log from its first whole line, and
    `bytes_read` counts every byte received.
    """

    status: Status
    text: str | None = None
    reason: str | None = None
    truncated: bool = False
    bytes_read: int = 0
    attempts: int = 0

    @classmethod
    def unavailable(cls, why: str, *, attempts: int = 0) -> LogResult:
        return cls(status="unavailable", reason=f"logs unavailable: {why}", attempts=attempts)


class LogSource(Protocol):
    """Fetches the log of one failed job."""

    def fetch(self, ref: JobRef) -> LogResult: ...


@dataclass(frozen=True, slots=True)
class Failure:
    """Why one attempt got no log; `retry_after` is the server's Retry-After value, verbatim."""

    reason: str
    retryable: bool = False
    retry_after: str | None = None


def parse_retry_after(value: str, *, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP date); None if invalid."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True, slots=True)
class Retry:
    """How often and how patiently to try; `sleep`, `jitter` and `now` are injectable for tests."""

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)
    now: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError(f"invalid retry policy: {self!r}")

    def delay(self, attempt: int, retry_after: str | None = None) -> float | None:
        """Seconds to wait after failed attempt `attempt` (1-based), or None when the server
        asks for longer than `max_delay` (then waiting is pointless: give up and say so)."""
        if retry_after is not None:
            wait = parse_retry_after(retry_after, now=self.now())
            if wait is not None:
                return wait if wait <= self.max_delay else None
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        # "Equal jitter": at least half the ceiling, so that retries never hammer the server.
        return ceiling * (1 + self.jitter()) / 2


@dataclass(frozen=True, slots=True)
class _Tried:
    """One attempt: its failure (None: the log is in `sink`); `crashed`: the source raised."""

    failure: Failure | None
    sink: TailBuffer
    crashed: bool = False

    @property
    def retryable(self) -> bool:
        return self.failure is not None and self.failure.retryable and not self.crashed


def _result(state: RetryCallState) -> _Tried:
    assert state.outcome is not None  # tenacity asks only after an attempt
    tried: _Tried = state.outcome.result()
    return tried


class TailBuffer:
    """Receives a log in chunks and keeps its last `limit` bytes, in about `limit` of memory."""

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self._limit = limit
        self._chunks: deque[bytes] = deque()
        self._kept = 0
        self._before = b""  # the last byte dropped, to know whether the window starts a line
        self.total = 0

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._chunks.append(chunk)
        self._kept += len(chunk)
        self.total += len(chunk)
        while self._kept - len(self._chunks[0]) >= self._limit:
            dropped = self._chunks.popleft()
            self._kept -= len(dropped)
            self._before = dropped[-1:]

    def value(self) -> tuple[bytes, bool]:
        """The bytes kept and whether the log was truncated.

        A truncated log starts at its first whole line, unless the window holds a single line."""
        data = b"".join(self._chunks)
        if self.total <= self._limit:
            return data, False
        cut = len(data) - self._limit
        before = data[cut - 1 : cut] if cut else self._before
        data = data[cut:]
        if before != b"\n":
            newline = data.find(b"\n")
            if 0 <= newline < len(data) - 1:
                data = data[newline + 1 :]
        return data, True


class BaseLogSource(ABC):
    """The base runner: a source implements `_precheck` and `_attempt`, and nothing else."""

    #: The system's name as it appears in reasons and logs ("GitHub").
    name: str = ""

    def __init__(
        self,
        *,
        max_bytes: int,
        retry: Retry | None = None,
        timeout: float = 30.0,
        secrets: Iterable[str] = (),
    ) -> None:
        if max_bytes <= 0 or timeout <= 0:
            raise ValueError("max_bytes and timeout must be positive")
        self.max_bytes = max_bytes
        self.retry = retry or Retry()
        self.timeout = timeout
        self._secrets = tuple(s for s in secrets if s)

    @abstractmethod
    def _precheck(self, ref: JobRef) -> str | None:
        """What stops a fetch before any request (a missing token, a malformed ref), or None."""

    @abstractmethod
    def _attempt(self, ref: JobRef, sink: TailBuffer) -> Failure | None:
        """Make one request, writing the body into `sink`; None on success."""

    def fetch(self, ref: JobRef) -> LogResult:
        started = time.monotonic()
        result = self._fetch(ref)
        level = logging.INFO if result.status == "ok" else logging.WARNING
        logger.log(
            level,
            "%s log %s/%s: %s in %.2fs, %d attempt(s), %d bytes%s",
            self.name,
            self._redact(ref.project),
            self._redact(ref.job),
            result.reason or "ok",
            time.monotonic() - started,
            result.attempts,
            result.bytes_read,
            " (truncated)" if result.truncated else "",
        )
        return result

    def _fetch(self, ref: JobRef) -> LogResult:
        blocked = self._precheck(ref)
        if blocked is not None:
            return self._unavailable(blocked, attempts=0)
        retrying = Retrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_result(lambda tried: tried.retryable),
            sleep=self.retry.sleep,
            before_sleep=self._log_retry,
            # Out of attempts or patience: the last attempt's result, which says why.
            retry_error_callback=_result,
        )
        tried: _Tried = retrying(self._try_once, ref)
        attempt = int(retrying.statistics["attempt_number"])
        failure = tried.failure
        if failure is None:
            return self._decoded(ref, tried.sink, attempts=attempt)
        if not failure.retryable or tried.crashed:
            return self._unavailable(failure.reason, attempts=attempt)
        if attempt >= self.retry.max_attempts:
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            return self._unavailable(f"{failure.reason}{tries}", attempts=attempt)
        why = (
            f"{failure.reason}; asked to retry after {failure.retry_after}, "
            f"beyond the {self.retry.max_delay:g}s limit"
        )
        return self._unavailable(why, attempts=attempt)

    def _try_once(self, ref: JobRef) -> _Tried:
        sink = TailBuffer(self.max_bytes)
        try:
            return _Tried(self._attempt(ref, sink), sink)
        except Exception as exc:  # a source's bug is recorded; the pipeline goes on
            logger.error("%s connector failed: %s", self.name, self._redact(repr(exc)))
            why = f"the {self.name} connector failed unexpectedly ({type(exc).__name__})"
            return _Tried(Failure(why), sink, crashed=True)

    def _stop(self, state: RetryCallState) -> bool:
        """Out of attempts, or the server asked to retry later than `max_delay` (pointless)."""
        if state.attempt_number >= self.retry.max_attempts:
            return True
        failure = _result(state).failure
        return (
            failure is not None
            and failure.retry_after is not None
            and self.retry.delay(state.attempt_number, failure.retry_after) is None
        )

    def _wait(self, state: RetryCallState) -> float:
        failure = _result(state).failure
        wait = self.retry.delay(
            state.attempt_number, None if failure is None else failure.retry_after
        )
        return 0.0 if wait is None else wait

    def _log_retry(self, state: RetryCallState) -> None:
        failure = _result(state).failure
        reason = "" if failure is None else failure.reason
        wait = state.upcoming_sleep
        logger.info("%s: %s; retrying in %.2fs", self.name, self._redact(reason), wait)

    def _decoded(self, ref: JobRef, sink: TailBuffer, *, attempts: int) -> LogResult:
        data, truncated = sink.value()
        name = f"{self.name} job {ref.project}/{ref.job}"
        try:
            text = decode_log(data, name=name)
        except EmptyInputError:
            return self._unavailable(f"{self.name} returned an empty log", attempts=attempts)
        except BinaryInputError:
            return self._unavailable(f"{self.name} returned binary data", attempts=attempts)
        return LogResult(
            status="ok",
            text=text,
            truncated=truncated,
            bytes_read=sink.total,
            attempts=attempts,
        )

    def _unavailable(self, why: str, attempts: int) -> LogResult:
        return LogResult.unavailable(self._redact(why), attempts=attempts)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return text


# -- shared by the sources that speak HTTP through httpx ------------------------------------

_MEANING = {
    401: "bad credentials",
    403: "forbidden",
    404: "not found",
    408: "request timeout",
    410: "gone",
    429: "rate limited",
    500: "server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def is_retryable_status(code: int) -> bool:
    return code in (408, 429) or code >= 500


def status_failure(
    who: str, code: int, *, meanings: dict[int, str] | None = None, retry_after: str | None = None
) -> Failure:
    """`<who> answered <code> (<meaning>)`, retryable for 408, 429 and 5xx."""
    meaning = (meanings or {}).get(code) or _MEANING.get(code)
    reason = f"{who} answered {code}" + (f" ({meaning})" if meaning else "")
    return Failure(reason, retryable=is_retryable_status(code), retry_after=retry_after)


def where(url: str | httpx.URL) -> str:
    """A URL's host and port only: never its credentials, path or query (signed blob links)."""
    parsed = httpx.URL(url)
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


def stream_get(
    client: httpx.Client,
    url: str,
    sink: TailBuffer,
    *,
    who: str,
    on_status: Callable[[httpx.Response], Failure],
) -> Failure | None:
    """GET `url` with `client`, streaming a 2xx body into `sink`; `on_status` describes the rest."""
    try:
        with client.stream("GET", url) as response:
            if not response.is_success:
                return on_status(response)
            for chunk in response.iter_bytes():
                sink.write(chunk)
    except httpx.TimeoutException:
        return Failure(f"{who} timed out", retryable=True)
    except httpx.TooManyRedirects:
        return Failure(f"{who} redirected too many times")
    except httpx.TransportError as exc:
        return Failure(f"cannot reach {who} at {_host_of(exc, url)} ({type(exc).__name__})", True)
    return None


def _host_of(exc: httpx.TransportError, url: str) -> str:
    """The host that failed: after a redirect it is not the one first asked."""
    try:
        return where(exc.request.url)
    except RuntimeError:  # httpx raises this when the error carries no request
        return where(url)
