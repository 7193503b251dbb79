"""The CloudWatch Logs source actor: runs a `CloudWatchFollower` (`recoverops.sources.cloudwatch`)
over the log groups RECOVEROPS_AWS_LOG_GROUPS names, storing and queueing what it finds for the
detectors; the lines no known cause covers go to its anomaly model (`recoverops.anomaly`).

Started by the supervisor when log groups are configured, like the Kubernetes source actor: a
failure is stored and queued at once, and a restarted actor resumes from the positions kept in
the store. Its `stats` (per group: position, lag, events, errors) are the supervisor's
`status()["sources"]["cloudwatch"]`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from recoverops.anomaly import AnomalyConfig, AnomalyWatch
from recoverops.detector import analyze_text
from recoverops.observability.setup import set_up_actor
from recoverops.queue import open_queue
from recoverops.settings import Settings
from recoverops.sources.cloudwatch import (
    CloudWatchFollower,
    FollowConfig,
    log_groups_from_settings,
    logs_client_from_settings,
)
from recoverops.sources.sink import StoredSink
from recoverops.store import Store

logger = logging.getLogger("recoverops.actors")


class CloudWatchActor:
    """Wrapped with `ray.remote` by the supervisor; plain Python here. Follows on a thread."""

    def __init__(
        self, settings: Settings, *, queue: str = "events", config: FollowConfig | None = None
    ) -> None:
        set_up_actor(settings)  # this actor's process logs and traces as `up` does
        self.name = "source:cloudwatch"
        self._store = Store.open(settings, migrate=False)
        self._error: str | None = None
        self._follower: CloudWatchFollower | None = None
        try:
            logs = logs_client_from_settings(settings)
        except Exception as error:  # no region, a bad endpoint: said in stats, nothing read
            self._error = f"cannot make a CloudWatch Logs client: {type(error).__name__}: {error}"
            logger.error("%s: %s", self.name, self._error)
            return
        sink = StoredSink(self._store, open_queue(settings, self._store, name=queue))
        self._anomaly = AnomalyWatch(
            self._store, sink, config=AnomalyConfig.from_settings(settings)
        )
        self._follower = CloudWatchFollower(
            logs,
            store=self._store,
            sink=sink,
            groups=log_groups_from_settings(settings),
            analyze=analyze_text,
            config=config or FollowConfig.from_settings(settings),
            anomaly=self._anomaly,
        ).start()

    def ping(self) -> str:
        return self.name

    def stats(self) -> dict[str, Any]:
        if self._follower is None:
            return {"source": self.name, "running": False, "error": self._error}
        return {**self._follower.stats(), "source": self.name, "anomaly": self._anomaly.stats()}

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        if self._follower is not None:
            self._follower.stop(timeout)
            self._anomaly.flush(datetime.now(UTC))
        self._store.close()
        return self.stats()
