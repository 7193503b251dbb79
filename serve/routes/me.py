"""GET /me: who the bearer token says the caller is, so a client (the dashboard) can show
only what the role allows."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from recoverops.auth import Role

from ..access import PrincipalDep

router = APIRouter(tags=["auth"])


class Me(BaseModel):
    subject: str = Field(description="The token's subject (`development` with sign-in disabled)")
    role: Role
    auth: Literal["jwt", "disabled"] = Field(
        description="`disabled`: RECOVEROPS_ENV=development with no sign-in configured"
    )


@router.get("/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    assert principal.role is not None  # the route's rule needs a role
    return Me(subject=principal.subject, role=principal.role, auth=principal.auth)
