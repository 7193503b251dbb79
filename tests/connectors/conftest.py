from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recoverops.connectors import Retry
from tests.connectors.fake_server import FakeServer, running

CASES = Path(__file__).parent.parent / "fixtures" / "cases"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with running() as s:
        yield s


@pytest.fixture
def storage() -> Iterator[FakeServer]:
    """A second server, another origin: where GitHub's redirect leads."""
    with running() as s:
        yield s


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> Retry:
    """Three attempts, a fixed jitter and a recorded sleep: no test waits for real."""
    return Retry(max_attempts=3, base_delay=0.5, max_delay=30.0, sleep=sleeps, jitter=lambda: 1.0)


def case_log(name: str) -> bytes:
    return (CASES / name / "log.txt").read_bytes()
