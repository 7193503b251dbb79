"""Logging and tracing set up once per process, from the settings.

`up` and `api` call `set_up(settings)` in their own process; each actor calls `set_up_actor`
first thing in its `__init__` (so a restarted actor is set up again), and each ingress replica
`set_up` when it builds the app. Ray's job-wide `worker_process_setup_hook` would do it in one
place, but a job-wide runtime environment keeps Ray from using its pre-started workers: measured
here, four actors took 29 s to start instead of 8.
"""

from __future__ import annotations

from recoverops.settings import Settings

from .logs import configure_logging
from .tracing import configure_tracing


def set_up(settings: Settings) -> None:
    configure_logging(settings.log_format, settings.log_level)
    configure_tracing(settings.tracing_endpoint)


def set_up_actor(settings: Settings) -> None:
    """`set_up`, in a Ray actor's own process only: a test that builds an actor class in its
    own process keeps its logging as pytest set it."""
    import ray

    if ray.is_initialized() and ray.get_runtime_context().get_actor_id() is not None:
        set_up(settings)
