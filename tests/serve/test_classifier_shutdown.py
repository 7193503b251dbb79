"""The classifier replica's poller thread stops with the replica: Serve's shutdown hook
(`__del__`) returns only once the thread is gone. The plain class, no Serve: the hook is what
Serve calls when it stops a replica."""

from __future__ import annotations

import threading
from pathlib import Path

from recoverops.serve.classifier import Classifier
from recoverops.settings import Settings


def pollers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "classifier-poll" and t.is_alive()]


def test_the_poller_is_gone_after_the_replicas_shutdown_hook(tmp_path: Path) -> None:
    before = pollers()
    # Polling often: the poller is busy asking the (empty) registry when the replica stops.
    replica = Classifier(Settings(home=tmp_path / "home"), {"poll_s": 0.01})
    (poller,) = [t for t in pollers() if t not in before]
    assert poller.daemon
    replica.__del__()  # what Serve calls on the replica it stops
    assert not poller.is_alive()
    assert pollers() == before


def test_shutting_down_twice_is_harmless(tmp_path: Path) -> None:
    replica = Classifier(Settings(home=tmp_path / "home"), {"poll_s": 0})
    replica.shutdown()
    replica.__del__()
    assert not replica._poller.is_alive()
