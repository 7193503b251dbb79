"""The same pipeline on Redis Streams: a killed detector's entry is reclaimed with XAUTOCLAIM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.actors.test_pipeline import System, kill_mid_event, running

pytestmark = pytest.mark.usefixtures("ray_session")


@pytest.fixture
def redis_system(tmp_path: Path, redis_url: str) -> Iterator[System]:
    with running(tmp_path / "home", redis_url=redis_url) as started:
        yield started


def test_killed_mid_event_on_redis_streams(redis_system: System) -> None:
    kill_mid_event(redis_system, stage="analyzed", restart=False)
