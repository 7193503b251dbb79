"""GET /dead-letters: queued events given up on after RECOVEROPS_MAX_ATTEMPTS deliveries.

Each carries its last error; `recoverops replay --dead-letters` queues them again after a fix.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import StoreDep
from ..schemas import DeadLetterList, DeadLetterOut

MAX_LISTED = 500

router = APIRouter(prefix="/dead-letters", tags=["operations"])


@router.get("", response_model=DeadLetterList)
def list_dead_letters(
    store: StoreDep, limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100
) -> DeadLetterList:
    """Dead letters not replayed yet, newest first."""
    return DeadLetterList(
        items=[DeadLetterOut.of(letter) for letter in store.dead_letters(limit=limit)]
    )
