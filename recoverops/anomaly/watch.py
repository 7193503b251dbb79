"""The anomaly models of every watched source, persisted, and what they report put in a sink.

A source's model is made on its first line: its first-watched time comes from the store (the
source positions, under source `anomaly`), or is now for a source never watched, which starts
its warm-up; its templates come back from `anomaly_templates`, the most recently seen first
kept. A model saves the templates it learnt at once (a restart right after must not call them
new) and its counts every `save_every`, and drops from the store what it forgot.

An anomaly becomes a `WatchedFailure` of the source: grouped by the source's target and the
template (`anomaly:<template id>`, so a new template and its later bursts are one incident), its
text the line that tripped it, its payload's `anomaly` the reason and the numbers. The delivery
id names the window, so a restart that sees the same burst again stores nothing new.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from recoverops.anomaly.model import Anomaly, AnomalyConfig, SourceModel, TemplateStats
from recoverops.incidents import Source
from recoverops.redaction import redact_text
from recoverops.sources.sink import Sink, WatchedFailure
from recoverops.store import Store, StoredTemplate

logger = logging.getLogger("recoverops.anomaly")

# Where each source's first-watched time is kept (the source positions table).
POSITION_SOURCE = "anomaly"


class AnomalyWatch:
    """Thread-safe: the streams of one source actor share it."""

    def __init__(
        self,
        store: Store,
        sink: Sink,
        *,
        config: AnomalyConfig | None = None,
        save_every: timedelta = timedelta(seconds=30),
    ) -> None:
        self.config = config or AnomalyConfig()
        self._store = store
        self._sink = sink
        self._save_every = save_every
        self._models: dict[str, SourceModel] = {}
        self._saved_at: dict[str, datetime] = {}
        self._last_line: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.reported = 0  # anomalies stored and queued
        self.lines = 0

    def observe(
        self,
        *,
        source: Source,
        stream: str,
        line: str,
        at: datetime,
        target: str | None = None,
        identity: Mapping[str, Any] | None = None,
    ) -> Anomaly | None:
        """Learn one line of `source`'s `stream`; the anomaly it was, if any, put in the sink.
        `target` names what the incident is about (default: the stream); `identity` is the
        workload, when the source knows it (`recoverops.correlation`)."""
        key = f"{source.value}:{stream}"
        line = redact_text(line.rstrip("\n"))
        with self._lock:
            self.lines += 1
            model = self._model(key, at)
            anomaly = model.observe(line, at)
            self._last_line[key] = max(at, self._last_line.get(key, at))
            if model.learnt or model.evicted or at - self._saved_at[key] >= self._save_every:
                self._save(model, at)
        if anomaly is None:
            return None
        failure = WatchedFailure(
            source=source,
            kind=f"anomaly.{anomaly.reason}",
            delivery_id=f"anomaly|{key}|{anomaly.template_id}|{anomaly.reason}|w{anomaly.window}",
            target=target or stream,
            cause=f"anomaly:{anomaly.template_id}",
            subject=f"{key} template {anomaly.template_id}",
            text=line + "\n",
            seen_at=at,
            identity=identity,
            anomaly=anomaly.to_json(),
        )
        if self._sink.put(failure):
            self.reported += 1
            logger.info("anomaly on %s: %s", key, anomaly.detail)
        return anomaly

    def flush(self, at: datetime) -> None:
        """Save every model's counts now (a stopping source)."""
        with self._lock:
            for model in self._models.values():
                self._save(model, at)

    def stats(self) -> dict[str, Any]:
        """Lines seen, anomalies reported, and per source its templates and, while it warms
        up (new templates learnt, not reported), until when."""
        with self._lock:
            return {
                "lines": self.lines,
                "reported": self.reported,
                "templates": {key: len(model) for key, model in self._models.items()},
                "warming_up_until": {
                    key: (model.started + self.config.warmup).isoformat()
                    for key, model in self._models.items()
                    if model.warming(self._last_line.get(key, model.started))
                },
            }

    def _model(self, key: str, at: datetime) -> SourceModel:
        model = self._models.get(key)
        if model is not None:
            return model
        stored = self._store.source_position(POSITION_SOURCE, key)
        started = _parse(stored) if stored else None
        if started is None:
            started = at
            self._store.save_source_position(POSITION_SOURCE, key, at.isoformat())
            logger.info("anomaly model of %s warms up until %s", key, at + self.config.warmup)
        model = SourceModel(key, config=self.config, started=started)
        for row in self._store.anomaly_templates(key, limit=self.config.max_templates):
            model.restore(
                TemplateStats(
                    row.template,
                    first_seen=row.first_seen,
                    last_seen=row.last_seen,
                    count=row.count,
                    baseline=row.baseline,
                )
            )
        model.evicted.clear()
        self._models[key] = model
        self._saved_at[key] = at
        return model

    def _save(self, model: SourceModel, at: datetime) -> None:
        since = self._saved_at.get(model.source)
        changed = [
            t
            for t in model.templates()
            if t.stored_id != t.id or since is None or t.last_seen >= since
        ]
        # A template that generalised has a new id: the old row goes.
        forget = {t.stored_id for t in changed if t.stored_id and t.stored_id != t.id}
        forget |= set(model.evicted)
        self._store.save_anomaly_templates(
            model.source,
            [
                StoredTemplate(
                    template_id=t.id,
                    template=t.template,
                    first_seen=t.first_seen,
                    last_seen=t.last_seen,
                    count=t.count,
                    baseline=t.baseline,
                )
                for t in changed
            ],
            forget=forget - {t.id for t in changed},
        )
        for template in changed:
            template.stored_id = template.id
        model.evicted.clear()
        model.learnt = 0
        self._saved_at[model.source] = at


def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
