"""The supervisor: starts the remediators and the detector pool, keeps the pool whole, stops all.

Ray restarts a crashed actor up to `max_restarts` times by itself (a detector resumes its loop
in `__init__`). The supervisor's monitor covers the rest: a detector that is gone for good
(restarts used up, or killed with `no_restart`) is replaced by a new one. Either way the queue's
lease reclaim hands the dead detector's unacked messages to a live one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ray
from ray import ObjectRef
from ray.exceptions import ActorDiedError, ActorUnavailableError, GetTimeoutError

from recoverops.settings import Settings
from recoverops.store import Store

from .detector import Checkpoint, Detector, DetectorConfig
from .handles import Handle, spawn
from .remediator import Remediator

logger = logging.getLogger("recoverops.actors")

SYSTEMS = ("github", "gitlab", "jenkins")
PING_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class PoolConfig:
    detectors: int = 2
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    systems: Sequence[str] = SYSTEMS
    max_restarts: int = 3  # Ray's own restarts of one detector before the supervisor replaces it
    check_interval: float = 1.0  # seconds between the monitor's health checks
    # Actors reserve no CPU: they mostly wait on the database, the queue and HTTP.
    num_cpus: float = 0.0


class Supervisor:
    """Wrapped with `ray.remote` (see `start_supervisor`); plain Python here."""

    def __init__(
        self, settings: Settings, *, config: PoolConfig, checkpoint: Checkpoint | None = None
    ) -> None:
        self._settings = settings
        self._config = config
        self._checkpoint = checkpoint
        self._remediators: dict[str, Handle] = {}
        self._detectors: list[Handle] = []
        self._replaced = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def start(self) -> list[str]:
        """Migrate the store, start every actor, wait until each answers; the consumers' names."""
        Store.open(self._settings).close()  # one migration here, not one per actor
        options = {"num_cpus": self._config.num_cpus, "max_restarts": -1}
        self._remediators = {
            system: spawn(Remediator, self._settings, options=options, system=system)
            for system in self._config.systems
        }
        ray.get([r.ping.remote() for r in self._remediators.values()], timeout=60)
        self._detectors = [self._new_detector(i) for i in range(self._config.detectors)]
        names: list[str] = ray.get([d.ping.remote() for d in self._detectors], timeout=60)
        self._monitor.start()
        return names

    def detectors(self) -> list[Handle]:
        with self._lock:
            return list(self._detectors)

    def check(self) -> int:
        """Replace every detector that is gone for good; how many were replaced."""
        replaced = 0
        with self._lock:
            for index, detector in enumerate(self._detectors):
                if self._stop.is_set():
                    break
                if self._gone(detector):
                    logger.warning("detector %d is gone: starting a new one", index)
                    self._detectors[index] = self._new_detector(index)
                    replaced += 1
            self._replaced += replaced
        return replaced

    def status(self) -> dict[str, Any]:
        stats: list[dict[str, Any]] = []
        for detector in self.detectors():
            try:
                asked: ObjectRef[dict[str, Any]] = detector.stats.remote()
                stats.append(ray.get(asked, timeout=PING_TIMEOUT))
            except (ActorDiedError, ActorUnavailableError, GetTimeoutError) as error:
                stats.append({"running": False, "error": type(error).__name__})
        return {"detectors": stats, "replaced": self._replaced, "systems": list(self._remediators)}

    def stop(self) -> dict[str, Any]:
        """Stop the monitor, let each detector finish its message, then end every actor."""
        self._stop.set()
        if self._monitor.is_alive():
            self._monitor.join(PING_TIMEOUT)
        final: list[dict[str, Any]] = []
        with self._lock:
            for detector in self._detectors:
                try:
                    stopped: ObjectRef[dict[str, Any]] = detector.stop.remote()
                    final.append(ray.get(stopped, timeout=30))
                except (ActorDiedError, ActorUnavailableError, GetTimeoutError) as error:
                    final.append({"running": False, "error": type(error).__name__})
                ray.kill(detector, no_restart=True)
            for remediator in self._remediators.values():
                try:
                    ray.get(remediator.close.remote(), timeout=PING_TIMEOUT)
                except (ActorDiedError, ActorUnavailableError, GetTimeoutError):
                    pass
                ray.kill(remediator, no_restart=True)
            self._detectors.clear()
            self._remediators.clear()
        return {"detectors": final, "replaced": self._replaced}

    def _watch(self) -> None:
        while not self._stop.wait(self._config.check_interval):
            try:
                self.check()
            except Exception:  # the monitor must outlive whatever it trips over
                logger.exception("supervisor check failed")

    def _new_detector(self, index: int) -> Handle:
        options = {"num_cpus": self._config.num_cpus, "max_restarts": self._config.max_restarts}
        return spawn(
            Detector,
            self._settings,
            options=options,
            name=f"detector-{index}",
            config=self._config.detector,
            remediators=self._remediators,
            checkpoint=self._checkpoint,
        )

    @staticmethod
    def _gone(detector: Handle) -> bool:
        try:
            ray.get(detector.ping.remote(), timeout=PING_TIMEOUT)
        except ActorDiedError:
            return True
        except (ActorUnavailableError, GetTimeoutError):
            return False  # restarting, or busy: Ray is on it
        return False


def start_supervisor(
    settings: Settings, *, config: PoolConfig | None = None, checkpoint: Checkpoint | None = None
) -> tuple[Handle, list[str]]:
    """Start a supervisor actor and its pool; the handle and the detectors' consumer names."""
    supervisor = spawn(
        Supervisor,
        settings,
        options={"num_cpus": 0, "max_concurrency": 4},
        config=config or PoolConfig(),
        checkpoint=checkpoint,
    )
    names: list[str] = ray.get(supervisor.start.remote(), timeout=120)
    return supervisor, names
