"""`Detector.stop` closes the store only once the loop has ended: a loop still handling a
message when stop's wait runs out keeps its store until that message is done. No Ray: the
detector runs in-process, on SQLite."""

from __future__ import annotations

import threading
from datetime import timedelta

from recoverops.actors.detector import Detector, DetectorConfig
from recoverops.queue import open_queue
from recoverops.settings import Settings
from recoverops.store import Store
from tests.actors.conftest import enqueue, failure_body, store_failure, wait_for

DEADLINE_SECONDS = 30.0


def test_stop_leaves_the_store_open_until_the_loop_has_ended(settings: Settings) -> None:
    store = Store.open(settings)
    queue = open_queue(settings, store, name="events", lease=timedelta(minutes=2))
    event_id = store_failure(store, failure_body())
    enqueue(queue, event_id)

    in_hand = threading.Event()
    release = threading.Event()

    def hold_after_storing(stage: str, _event_id: int, _consumer: str) -> None:
        if stage == "stored":  # the incident is stored; analysis and the ack are still to come
            in_hand.set()
            release.wait(DEADLINE_SECONDS)

    config = DetectorConfig(queue="events", idle_wait=0.01)
    detector = Detector(settings, name="stopping", config=config, checkpoint=hold_after_storing)
    closed: list[dict[str, int]] = []
    close = detector._store.close

    def recording_close() -> None:
        closed.append(detector.stats())  # what the loop had done when its store was closed
        close()

    detector._store.close = recording_close
    try:
        assert in_hand.wait(DEADLINE_SECONDS), "the detector never took the message"
        stats = detector.stop(timeout=0.1)  # runs out while the message is in hand
        assert stats["running"] and closed == []  # the loop still uses its store
    finally:
        release.set()
    wait_for(lambda: closed, what="the store closed by the ending loop")
    assert not detector.stats()["running"]
    (at_close,) = closed
    assert at_close["stored"] == 1  # the message in hand was finished first
    assert queue.depth().total == 0  # and acked, through the store it was still given
    store.close()
