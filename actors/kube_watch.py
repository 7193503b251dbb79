"""The Kubernetes source actor: runs a `KubeWatcher` (`recoverops.sources.kubernetes`) over the
cluster `RECOVEROPS_KUBECONFIG` names, storing and queueing what it sees for the detectors.

Started by the supervisor when the setting is set, in place of a sweeping `SourceActor`: a
watched failure is stored and queued at once, and a restarted actor resumes from the positions
kept in the store. Its `stats` (per stream: position, lag, lists, 410s, errors) are the
supervisor's `status()["sources"]["kubernetes"]`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from recoverops.anomaly import AnomalyConfig, AnomalyWatch
from recoverops.observability.setup import set_up_actor
from recoverops.queue import open_queue
from recoverops.settings import Settings
from recoverops.sources.kubernetes import KubeWatcher, WatchConfig, api_client_from_settings
from recoverops.sources.sink import StoredSink
from recoverops.store import Store

logger = logging.getLogger("recoverops.actors")


class KubeWatchActor:
    """Wrapped with `ray.remote` by the supervisor; plain Python here. Watches on threads."""

    def __init__(
        self, settings: Settings, *, queue: str = "events", config: WatchConfig | None = None
    ) -> None:
        set_up_actor(settings)  # this actor's process logs and traces as `up` does
        self.name = "source:kubernetes"
        self._store = Store.open(settings, migrate=False)
        self._error: str | None = None
        self._watcher: KubeWatcher | None = None
        try:
            api = api_client_from_settings(settings)
        except Exception as error:  # an unreadable kubeconfig: said in stats, nothing watched
            self._error = f"cannot load the kubeconfig: {type(error).__name__}: {error}"
            logger.error("%s: %s", self.name, self._error)
            return
        sink = StoredSink(self._store, open_queue(settings, self._store, name=queue))
        self._anomaly = AnomalyWatch(
            self._store, sink, config=AnomalyConfig.from_settings(settings)
        )
        self._watcher = KubeWatcher(
            api, store=self._store, sink=sink, config=config, anomaly=self._anomaly
        ).start()

    def ping(self) -> str:
        return self.name

    def stats(self) -> dict[str, Any]:
        if self._watcher is None:
            return {"source": self.name, "running": False, "error": self._error}
        return {**self._watcher.stats(), "source": self.name, "anomaly": self._anomaly.stats()}

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        if self._watcher is not None:
            self._watcher.stop(timeout)
            self._anomaly.flush(datetime.now(UTC))
        self._store.close()
        return self.stats()
