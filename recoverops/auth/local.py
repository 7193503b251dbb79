"""Tokens for a single machine: `recoverops token create` signs them with the shared secret.

They are ordinary JWTs (HS256) with their own issuer and audience, so one never passes for an
OIDC issuer's token and the other way round.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from recoverops.auth.roles import Role

ISSUER = "recoverops"
AUDIENCE = "recoverops-api"
ALGORITHM = "HS256"
ROLE_CLAIM = "role"
# A token is a bearer credential: one that lives for years is a password nobody rotates.
MAX_TTL = timedelta(days=366)

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> timedelta:
    """`90s`, `15m`, `12h`, `30d` as a duration; ValueError, saying why, otherwise."""
    found = _DURATION.match(text.lower())
    if found is None:
        raise ValueError(f"{text!r} is not a duration: a number and s, m, h or d (e.g. 12h)")
    ttl = timedelta(seconds=int(found.group(1)) * _UNIT_SECONDS[found.group(2)])
    if ttl <= timedelta(0):
        raise ValueError("a token must live for more than 0 seconds")
    if ttl > MAX_TTL:
        raise ValueError(f"{text} is longer than the longest lifetime, {MAX_TTL.days}d")
    return ttl


def create_token(
    secret: str, *, role: Role, subject: str, ttl: timedelta, now: datetime | None = None
) -> str:
    """A token for `subject` with `role`, valid from `now` for `ttl`."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        ROLE_CLAIM: role.value,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
