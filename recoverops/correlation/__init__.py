"""Correlation: a deploy from CI followed by failures of what it deployed is one incident.

    webhook ─► `deploys.recognise` (is this CI run a deploy?) ─► a deploy marker (stored, even
               for a successful run; never an incident by itself)
    failure ─► its `Identity` (workload name, labels, images) ─► `matching.match` against the
               markers of the last `RECOVEROPS_CORRELATION_WINDOW_S` ─► the deploy named as the
               likely root cause on the failure's incident, with both sides' evidence

`link` does both orders: a failure after its deploy, and a deploy whose webhook arrives after the
failure it caused. Any watched source joins by putting an `identity` in its failure's payload
(`recoverops.sources.sink.WatchedFailure`): a Kubernetes workload today, an AWS target or alarm
through the same fields.
"""

from recoverops.correlation.deploys import Deploy, recognise
from recoverops.correlation.link import Correlator
from recoverops.correlation.matching import CorrelationRules, Identity, match

__all__ = ["CorrelationRules", "Correlator", "Deploy", "Identity", "match", "recognise"]
