"""The pipeline on Ray: a supervisor, a detector pool and one dry-run remediator per system.

    queue ──claim──► Detector ×N ──process_event──► store (incident) ──► Remediator[system]
                        └──────────────── ack after the incident and its plan are stored

`process_event` is the detector's work as a plain function; the actors only wrap it.
"""

from .detector import Checkpoint, Detector, DetectorConfig
from .handles import Handle, spawn
from .jobs import JobIdentity, job_identity
from .plans import plan_for
from .process import Outcome, process_event, unavailable_analysis
from .remediator import Remediator
from .supervisor import PoolConfig, Supervisor, start_supervisor

__all__ = [
    "Checkpoint",
    "Detector",
    "DetectorConfig",
    "Handle",
    "JobIdentity",
    "Outcome",
    "PoolConfig",
    "Remediator",
    "Supervisor",
    "job_identity",
    "plan_for",
    "process_event",
    "spawn",
    "start_supervisor",
    "unavailable_analysis",
]
