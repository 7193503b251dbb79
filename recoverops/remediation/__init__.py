"""Remediation: typed actions, the policy that governs them, and the engine that carries them
out — plan → policy → approval → snapshot → apply → validate → resolved, or rolled back and
escalated — with every step audited. `ARCHITECTURE.md` has the flow; `engine.py` the states.
"""

from recoverops.remediation.model import (
    ActionRecord,
    ActionSpec,
    ActionStatus,
    Decision,
    Effect,
    Health,
    Risk,
    Snapshot,
    System,
    Verdict,
)

__all__ = [
    "ActionRecord",
    "ActionSpec",
    "ActionStatus",
    "Decision",
    "Effect",
    "Health",
    "Risk",
    "Snapshot",
    "System",
    "Verdict",
]
