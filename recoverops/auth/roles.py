"""The three roles, each allowed what the one below it is and more, and the principal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    VIEWER = "viewer"  # reads
    OPERATOR = "operator"  # also approves and rejects actions, gives feedback, opens PRs
    ADMIN = "admin"  # also changes policy and settings

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what `needed` may."""
        return self.rank >= needed.rank

    @classmethod
    def highest(cls, names: Iterable[str]) -> Role | None:
        """The highest role among `names`; names that are no role (an issuer's other groups)
        are ignored. None when there is none."""
        known = [cls(name) for name in names if name in cls._value2member_map_]
        return max(known, key=lambda role: role.rank, default=None)


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}

AuthKind = Literal["jwt", "disabled"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the token's subject and role (None: a valid token with no
    RecoverOps role), and whether a token said so or authentication is disabled."""

    subject: str
    role: Role | None
    auth: AuthKind = "jwt"


# RECOVEROPS_ENV=development with no way to check tokens configured: every request is this.
DEVELOPMENT = Principal(subject="development", role=Role.ADMIN, auth="disabled")
