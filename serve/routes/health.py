"""GET /healthz: can the app store an event and queue it? 200, or 503 naming what is down."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, Response

from ..deps import ServicesDep
from ..errors import SERVICE_UNAVAILABLE
from ..schemas import Check, Health

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(services: ServicesDep, response: Response) -> Health:
    checks = {
        "store": _check("store", lambda: services.store.list_incidents(limit=1)),
        "queue": _check("queue", lambda: services.queue.get().depth()),
    }
    ok = all(check.ok for check in checks.values())
    if not ok:
        response.status_code = SERVICE_UNAVAILABLE
    return Health(ok=ok, checks=checks)


def _check(name: str, probe: Callable[[], object]) -> Check:
    try:
        probe()
    except Exception as error:  # whatever the backend raises, the answer is "down"
        log.warning("health: %s is down: %s", name, error)
        # The error's type only: its message may name hosts and users.
        return Check(ok=False, error=type(error).__name__)
    return Check(ok=True)
