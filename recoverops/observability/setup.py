"""Logging and tracing set up once per process, from the settings.

`up` and `api` call `set_up(settings)` in their own process; every actor `actors.handles.spawn`
starts, and each ingress replica, calls it in its own (Ray's `worker_process_setup_hook` would
do the same, but a job-wide runtime environment keeps Ray from using its pre-started workers:
measured here, four actors took 29 s to start instead of 8).
"""

from __future__ import annotations

from recoverops.settings import Settings

from .logs import configure_logging
from .tracing import configure_tracing


def set_up(settings: Settings) -> None:
    configure_logging(settings.log_format, settings.log_level)
    configure_tracing(settings.tracing_endpoint)
