"""Outage: the waits of a polling loop while a dependency is down, and its two log lines."""

from __future__ import annotations

import logging

import pytest

from recoverops.outage import Outage


def test_waits_double_up_to_the_ceiling_and_the_outage_is_logged_twice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    outage = Outage(
        "the store",
        logger=logging.getLogger("tests.outage"),
        base=0.2,
        ceiling=3.0,
        clock=lambda: now[0],
        jitter=lambda: 1.0,  # the top of the jitter range: the full ceiling
    )
    caplog.set_level(logging.INFO, logger="tests.outage")

    waits = [outage.failed(ConnectionError("refused")) for _ in range(7)]
    now[0] += 12.5
    outage.succeeded()
    outage.succeeded()

    assert waits == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.0, 3.0, 3.0])
    assert [r.getMessage() for r in caplog.records] == [
        "the store is unavailable (ConnectionError: refused); retrying with backoff up to 3s",
        "the store is available again after 12.5s (7 failed tries)",
    ]
    assert not outage.down and outage.failures == 0


def test_a_wait_is_at_least_half_its_ceiling() -> None:
    outage = Outage(
        "x", logger=logging.getLogger("tests.outage"), base=1.0, ceiling=8.0, jitter=lambda: 0.0
    )
    assert [outage.failed(OSError()) for _ in range(3)] == [0.5, 1.0, 2.0]


def test_an_impossible_backoff_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid backoff"):
        Outage("x", logger=logging.getLogger("tests.outage"), base=2.0, ceiling=1.0)
