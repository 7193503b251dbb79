"""Anomaly: per watched source, a line of a template never seen before that reads like an
error, or a burst of a known error template, opens an incident even when no signature matches.

    line ─► the source's Drain miner (`recoverops.logs.templates`) ─► its template's counts
        never seen, past the warm-up, reads like an error   ─► "new_template"
        known, this window's count ≥ factor × its baseline    ─► "burst"
            (and ≥ the minimum, past the warm-up, an error)
    ─► a `WatchedFailure` marked `anomaly` with the reason and its numbers ─► the detector

`model.SourceModel` is one source's model, pure and bounded; `watch.AnomalyWatch` keeps one per
source, persists them (`anomaly_templates`, and the source's first-watched time among the
source positions) so a restart does not take every line for new, and puts anomalies in a sink.
"""

from recoverops.anomaly.model import Anomaly, AnomalyConfig, SourceModel, TemplateStats
from recoverops.anomaly.watch import AnomalyWatch

__all__ = ["Anomaly", "AnomalyConfig", "AnomalyWatch", "SourceModel", "TemplateStats"]
