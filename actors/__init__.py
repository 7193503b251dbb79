"""The pipeline on Ray: a supervisor, a source actor per log source, a detector pool, the
analyzer and one remediator per target system.

    SourceActor[source] ──sweep: stored failures on no queue──► queue
    queue ──claim──► Detector ×N ──process_event──► store (incident, open)
                        ├──► Analyzer ──analyze_incident──► context, analyzed
                        ├──► Remediator[system] ──► actions planned; its loop carries them out
                        └──── ack after the incident, its analysis and its plan are stored

`process_event`, `analyze_incident` and `sweep` are the actors' work as plain functions; the
actors only wrap them.
"""

from .analyzer import Analyzer, analyze_incident, incident_context
from .detector import Checkpoint, Detector, DetectorConfig
from .handles import Handle, spawn
from .jobs import JobIdentity, job_identity
from .process import Outcome, process_event, unavailable_analysis
from .remediator import Remediator
from .source import SourceActor, SourceConfig, Sweep, sweep
from .supervisor import PoolConfig, Supervisor, start_supervisor

__all__ = [
    "Analyzer",
    "Checkpoint",
    "Detector",
    "DetectorConfig",
    "Handle",
    "JobIdentity",
    "Outcome",
    "PoolConfig",
    "Remediator",
    "SourceActor",
    "SourceConfig",
    "Supervisor",
    "Sweep",
    "analyze_incident",
    "incident_context",
    "job_identity",
    "process_event",
    "spawn",
    "start_supervisor",
    "sweep",
    "unavailable_analysis",
]
