"""Bearer tokens for tests that call the API with sign-in on: the API's own kind
(`recoverops token create`), signed with a secret the tests set on their settings."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr

from recoverops.auth import Role
from recoverops.auth.local import create_token
from recoverops.settings import Settings

AUTH_SECRET = "tests-only signing secret, 32 bytes or more"
SUBJECT = "test-operator"


def with_auth(settings: Settings) -> Settings:
    """`settings` with sign-in on: tokens from `token` are accepted."""
    return settings.model_copy(update={"auth_secret": SecretStr(AUTH_SECRET)})


def token(role: Role = Role.ADMIN, subject: str = SUBJECT, ttl: float = 3600.0) -> str:
    return create_token(AUTH_SECRET, role=role, subject=subject, ttl=timedelta(seconds=ttl))


def bearer(role: Role = Role.ADMIN, subject: str = SUBJECT) -> dict[str, str]:
    """The Authorization header of a token for `subject` with `role`."""
    return {"Authorization": f"Bearer {token(role, subject)}"}
