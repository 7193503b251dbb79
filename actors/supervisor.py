"""The supervisor: starts and wires the pipeline's actors, keeps them whole, stops them all.

    SourceActor[source] ──(sweep: stored failures on no queue)──► queue
    queue ──► Detector ×N ──► Analyzer ──► Remediator[system] ──► ack
                 (actors/detector.py)   (actors/analyzer.py)   (actors/remediator.py)

Ray restarts a crashed actor by itself: a detector up to `max_restarts` times (it resumes its
loop in `__init__`), the analyzer, the remediators and the source actors without limit. The
supervisor's monitor covers the rest: an actor that is gone for good (restarts used up, or
killed with `no_restart`) is replaced by a new one. A new analyzer or remediator is handed to
every detector (`Detector.rewire`), including a detector that Ray restarts later with the
arguments it was first given. The queue's lease reclaim hands a dead detector's unacked
messages to a live one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ray
from ray import ObjectRef
from ray.exceptions import ActorDiedError, ActorUnavailableError, GetTimeoutError

from recoverops.observability.setup import set_up_actor
from recoverops.settings import Settings
from recoverops.store import Store

from .analyzer import Analyzer
from .cloudwatch_watch import CloudWatchActor
from .detector import Checkpoint, Detector, DetectorConfig
from .handles import Handle, spawn
from .kube_watch import KubeWatchActor
from .remediator import Remediator
from .source import SourceActor, SourceConfig

logger = logging.getLogger("recoverops.actors")

SYSTEMS = ("github", "gitlab", "jenkins")
# Sources that watch a system themselves (`recoverops.sources`), one actor each.
WATCHERS: dict[str, type[Any]] = {"kubernetes": KubeWatchActor, "cloudwatch": CloudWatchActor}
PING_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class PoolConfig:
    detectors: int = 2
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    source: SourceConfig = field(default_factory=SourceConfig)  # its queue is the detectors'
    systems: Sequence[str] = SYSTEMS  # a source actor and a remediator each
    # Remediators of other target systems besides (kubernetes, aws): their actions come from
    # plans and from operators, not from a source of their own.
    extra_remediators: Sequence[str] = ()
    # Watching sources to run (keys of WATCHERS), among the source actors.
    watchers: Sequence[str] = ()
    max_restarts: int = 3  # Ray's own restarts of one detector before the supervisor replaces it
    check_interval: float = 1.0  # seconds between the monitor's health checks
    # Actors reserve no CPU: they mostly wait on the database, the queue and HTTP.
    num_cpus: float = 0.0


class Supervisor:
    """Wrapped with `ray.remote` (see `start_supervisor`); plain Python here."""

    def __init__(
        self, settings: Settings, *, config: PoolConfig, checkpoint: Checkpoint | None = None
    ) -> None:
        set_up_actor(settings)  # this actor's process logs and traces as `up` does
        self._settings = settings
        self._config = config
        self._checkpoint = checkpoint
        self._remediators: dict[str, Handle] = {}
        self._analyzer: Handle | None = None
        self._sources: dict[str, Handle] = {}
        self._detectors: list[Handle] = []
        # The consumer name each detector last answered with: a new one means Ray restarted it.
        self._consumers: list[str | None] = []
        self._rewired = False  # an analyzer or remediator was replaced since the start
        self._replaced = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def start(self) -> list[str]:
        """Migrate the store, start every actor, wait until each answers; the consumers' names."""
        Store.open(self._settings).close()  # one migration here, not one per actor
        # A handle is usable before its actor is up, so every actor starts at once.
        self._remediators = {
            system: self._new_remediator(system)
            for system in (*self._config.systems, *self._config.extra_remediators)
        }
        self._analyzer = self._new_analyzer()
        self._detectors = [self._new_detector(i) for i in range(self._config.detectors)]
        self._sources = {
            system: self._new_source(system)
            for system in (*self._config.systems, *self._config.watchers)
        }
        names: list[str] = ray.get([d.ping.remote() for d in self._detectors], timeout=60)
        others = (*self._remediators.values(), self._analyzer, *self._sources.values())
        ray.get([actor.ping.remote() for actor in others], timeout=60)
        self._consumers = list(names)
        self._monitor.start()
        return names

    def detectors(self) -> list[Handle]:
        with self._lock:
            return list(self._detectors)

    def analyzer(self) -> Handle | None:
        with self._lock:
            return self._analyzer

    def sources(self) -> dict[str, Handle]:
        with self._lock:
            return dict(self._sources)

    def check(self) -> int:
        """Replace every actor that is gone for good; how many were replaced."""
        replaced = 0
        with self._lock:
            rewire = False
            if self._analyzer is not None and self._gone(self._analyzer) is None:
                logger.warning("the analyzer is gone: starting a new one")
                self._analyzer = self._new_analyzer()
                replaced, rewire = replaced + 1, True
            for system, remediator in list(self._remediators.items()):
                if self._gone(remediator) is None:
                    logger.warning("remediator %s is gone: starting a new one", system)
                    self._remediators[system] = self._new_remediator(system)
                    replaced, rewire = replaced + 1, True
            self._rewired = self._rewired or rewire
            for index, detector in enumerate(self._detectors):
                if self._stop.is_set():
                    break
                consumer = self._gone(detector)
                if consumer is None:
                    logger.warning("detector %d is gone: starting a new one", index)
                    self._detectors[index] = self._new_detector(index)
                    self._consumers[index] = None
                    replaced += 1
                elif rewire or (self._rewired and consumer not in ("", self._consumers[index])):
                    # Restarted by Ray with the actors it was first given: hand it today's.
                    self._detectors[index].rewire.remote(
                        analyzer=self._analyzer, remediators=self._remediators
                    )
                if consumer:
                    self._consumers[index] = consumer
            for system, source in list(self._sources.items()):
                if self._gone(source) is None:
                    logger.warning("source actor %s is gone: starting a new one", system)
                    self._sources[system] = self._new_source(system)
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
        return {
            "detectors": stats,
            "analyzer": self._stats_of(self._analyzer),
            "sources": {system: self._stats_of(s) for system, s in self.sources().items()},
            "replaced": self._replaced,
            "systems": list(self._remediators),
        }

    def stop(self) -> dict[str, Any]:
        """Stop the monitor, let each detector finish its message, then end every actor."""
        self._stop.set()
        if self._monitor.is_alive():
            self._monitor.join(PING_TIMEOUT)
        final: list[dict[str, Any]] = []
        with self._lock:
            for source in self._sources.values():  # first: nothing new is queued while stopping
                self._end(source, stop=True)
            for detector in self._detectors:
                try:
                    stopped: ObjectRef[dict[str, Any]] = detector.stop.remote()
                    final.append(ray.get(stopped, timeout=30))
                except (ActorDiedError, ActorUnavailableError, GetTimeoutError) as error:
                    final.append({"running": False, "error": type(error).__name__})
                ray.kill(detector, no_restart=True)
            for actor in (*self._remediators.values(), self._analyzer):
                if actor is not None:
                    self._end(actor, stop=False)
            self._detectors.clear()
            self._remediators.clear()
            self._sources.clear()
            self._analyzer = None
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
            analyzer=self._analyzer,
            checkpoint=self._checkpoint,
        )

    def _new_remediator(self, system: str) -> Handle:
        return spawn(Remediator, self._settings, options=self._restarting(), system=system)

    def _new_analyzer(self) -> Handle:
        # Every detector calls it: a few calls at once (each one store transaction), so a
        # detector, or the monitor's ping, never waits behind the whole pool.
        options = {**self._restarting(), "max_concurrency": 4}
        return spawn(Analyzer, self._settings, options=options)

    def _new_source(self, system: str) -> Handle:
        if system in WATCHERS:
            return spawn(
                WATCHERS[system],
                self._settings,
                options=self._restarting(),
                queue=self._config.detector.queue,
            )
        config = replace(self._config.source, queue=self._config.detector.queue)
        return spawn(
            SourceActor, self._settings, options=self._restarting(), source=system, config=config
        )

    def _restarting(self) -> dict[str, Any]:
        return {"num_cpus": self._config.num_cpus, "max_restarts": -1}

    @staticmethod
    def _gone(actor: Handle) -> str | None:
        """None when the actor is gone for good; else its answer to ping ("" if it is
        restarting or busy: Ray is on it)."""
        try:
            asked: ObjectRef[str] = actor.ping.remote()
            answer = ray.get(asked, timeout=PING_TIMEOUT)
        except ActorDiedError:
            return None
        except (ActorUnavailableError, GetTimeoutError):
            return ""
        return answer

    @staticmethod
    def _stats_of(actor: Handle | None) -> dict[str, Any]:
        if actor is None:
            return {"running": False}
        try:
            asked: ObjectRef[dict[str, Any]] = actor.stats.remote()
            return ray.get(asked, timeout=PING_TIMEOUT)
        except (ActorDiedError, ActorUnavailableError, GetTimeoutError) as error:
            return {"running": False, "error": type(error).__name__}

    @staticmethod
    def _end(actor: Handle, *, stop: bool) -> None:
        try:
            ray.get(actor.stop.remote() if stop else actor.close.remote(), timeout=30)
        except (ActorDiedError, ActorUnavailableError, GetTimeoutError):
            pass
        ray.kill(actor, no_restart=True)


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
