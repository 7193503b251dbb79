from __future__ import annotations

import email.utils
import logging

import pytest

from recoverops.connectors.base import (
    BaseLogSource,
    Failure,
    JobRef,
    LogResult,
    Retry,
    TailBuffer,
    parse_retry_after,
)
from tests.connectors.conftest import Sleeps

REF = JobRef(source="test", project="p", job="1")
SECRET = "tok-s3cr3t-value"


class Scripted(BaseLogSource):
    """A source whose attempts answer from a script: bytes, a Failure, or an exception."""

    name = "Scripted"

    def __init__(self, *script: bytes | Failure | Exception, retry: Retry, max_bytes: int = 64):
        super().__init__(max_bytes=max_bytes, retry=retry, secrets=[SECRET, ""])
        self.script = list(script)

    def _precheck(self, ref: JobRef) -> str | None:
        return None if ref.project else "no project"

    def _attempt(self, ref: JobRef, sink: TailBuffer) -> Failure | None:
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, Failure):
            return step
        sink.write(step)
        return None


def tail(data: bytes, limit: int, chunk: int) -> tuple[bytes, bool]:
    buffer = TailBuffer(limit)
    for start in range(0, len(data), chunk):
        buffer.write(data[start : start + chunk])
    assert buffer.total == len(data)
    return buffer.value()


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1000])
def test_tail_buffer_keeps_the_last_bytes_from_a_whole_line(chunk: int) -> None:
    data = b"one\ntwo\nthree\nfour\n"
    assert tail(data, 100, chunk) == (data, False)
    assert tail(data, len(data), chunk) == (data, False)
    assert tail(data, 10, chunk) == (b"four\n", True)  # "hree\nfour\n" starts mid-line
    assert tail(data, 11, chunk) == (b"three\nfour\n", True)  # the cut falls on a line start
    assert tail(data, 12, chunk) == (b"three\nfour\n", True)  # "\nthree...": "two"'s end
    assert tail(data, 3, chunk) == (b"ur\n", True)  # one partial line: keep it


def test_tail_buffer_holds_about_its_limit() -> None:
    buffer = TailBuffer(1000)
    for _ in range(10_000):
        buffer.write(b"x" * 99 + b"\n")
    assert buffer._kept < 1000 + 100
    data, truncated = buffer.value()
    assert truncated and data == (b"x" * 99 + b"\n") * 10


def test_backoff_is_exponential_capped_and_jittered() -> None:
    top = Retry(base_delay=1, max_delay=5, jitter=lambda: 1.0)
    bottom = Retry(base_delay=1, max_delay=5, jitter=lambda: 0.0)
    assert [top.delay(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]
    assert [bottom.delay(n) for n in range(1, 6)] == [0.5, 1, 2, 2.5, 2.5]


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 20, usegmt=True)
    assert parse_retry_after("12", now=now) == 12
    assert parse_retry_after(date, now=now) == 20
    assert parse_retry_after(email.utils.formatdate(now - 5, usegmt=True), now=now) == 0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("-3", now=now) is None
    retry = Retry(max_delay=30, now=lambda: now, jitter=lambda: 1.0)
    assert retry.delay(1, date) == 20
    assert retry.delay(1, "31") is None  # longer than we are willing to wait
    assert retry.delay(2, "garbage") == 1.0  # falls back to the backoff


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid retry policy"):
        Retry(max_attempts=0)
    with pytest.raises(ValueError, match="positive"):
        TailBuffer(0)


def test_retries_only_what_is_retryable(sleeps: Sleeps) -> None:
    retry = Retry(sleep=sleeps, jitter=lambda: 1.0)
    source = Scripted(Failure("flaky", retryable=True), b"log\n", retry=retry)
    assert source.fetch(REF) == LogResult("ok", "log\n", None, False, 4, 2)
    assert sleeps == [0.5]

    source = Scripted(Failure("refused"), b"never read", retry=retry)
    assert source.fetch(REF) == LogResult.unavailable("refused", attempts=1)


def test_a_failing_precheck_makes_no_attempt(retry: Retry) -> None:
    source = Scripted(retry=retry)
    assert source.fetch(JobRef("test", "", "1")).reason == "logs unavailable: no project"


def test_a_connector_bug_becomes_a_result(retry: Retry, caplog: pytest.LogCaptureFixture) -> None:
    source = Scripted(KeyError(f"token={SECRET}"), retry=retry)

    with caplog.at_level(logging.ERROR, logger="recoverops"):
        result = source.fetch(REF)

    assert result.reason == (
        "logs unavailable: the Scripted connector failed unexpectedly (KeyError)"
    )
    assert "KeyError" in caplog.text and SECRET not in caplog.text


def test_secrets_never_reach_a_reason(retry: Retry, caplog: pytest.LogCaptureFixture) -> None:
    source = Scripted(Failure(f"echoed {SECRET}", retryable=True), retry=retry)
    source.script *= 3

    with caplog.at_level(logging.DEBUG, logger="recoverops"):
        result = source.fetch(REF)

    assert result.reason == "logs unavailable: echoed *** after 3 attempts"
    assert SECRET not in caplog.text


def test_credentials_it_was_not_given_never_reach_a_reason(
    retry: Retry, caplog: pytest.LogCaptureFixture
) -> None:
    """A Jenkins URL configured with its user's password, quoted in an error."""
    reason = "cannot reach https://ci-bot:Fake-Passw0rd-77@jenkins.example.com/job/x/1/consoleText"
    source = Scripted(Failure(reason, retryable=False), retry=retry)

    with caplog.at_level(logging.DEBUG, logger="recoverops"):
        result = source.fetch(REF)

    assert result.reason is not None and "https://ci-bot:…[redacted]@" in result.reason
    assert "Fake-Passw0rd-77" not in result.reason + caplog.text


def test_binary_data_is_not_a_log(retry: Retry) -> None:
    result = Scripted(b"PK\x03\x04\x00\x00\x00binary", retry=retry).fetch(REF)
    assert result.reason == "logs unavailable: Scripted returned binary data"
