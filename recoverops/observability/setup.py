"""Logging and tracing set up once per process, from the settings.

`up` and `api` call `set_up(settings)` in their own process; `up` also names `worker_setup` as
Ray's `worker_process_setup_hook`, so every actor and Serve replica (each a process of its own,
started with `up`'s environment) writes its log lines the same way and joins the same traces.
"""

from __future__ import annotations

from recoverops.settings import Settings

from .logs import configure_logging
from .tracing import configure_tracing

# What `ray.init(runtime_env=…)` is given: Ray imports it by this name in each worker.
WORKER_SETUP_HOOK = "recoverops.observability.setup.worker_setup"


def set_up(settings: Settings) -> None:
    configure_logging(settings.log_format, settings.log_level)
    configure_tracing(settings.tracing_endpoint)


def worker_setup() -> None:
    """Ray runs this first in every worker process; the settings come from the environment,
    which `up` has validated already."""
    set_up(Settings())
