"""The API's own tokens: `recoverops token create` in a real process, and every way a token
that should not pass is refused with its reason."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from recoverops.auth import Role
from recoverops.auth.local import ALGORITHM, AUDIENCE, ISSUER, create_token
from tests.auth_tokens import AUTH_SECRET, token
from tests.serve.harness import Backend

TOKEN_COMMAND = [sys.executable, "-m", "recoverops.cli.main", "token", "create"]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    return env | {"RECOVEROPS_HOME": str(tmp_path / "home")} | extra


def me(backend: Backend, raw: str) -> tuple[int, dict[str, Any]]:
    with backend.client(headers={"Authorization": f"Bearer {raw}"}) as client:
        answer = client.get("/me")
    body: dict[str, Any] = answer.json()
    return answer.status_code, body


def test_token_create_round_trip_through_the_api(tmp_path: Path, sqlite_backend: Backend) -> None:
    made = subprocess.run(
        [*TOKEN_COMMAND, "--role", "operator", "--subject", "ci-bot", "--ttl", "15m"],
        env=environment(tmp_path, RECOVEROPS_AUTH_SECRET=AUTH_SECRET),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert made.stderr == ""
    [raw] = made.stdout.splitlines()
    assert me(sqlite_backend, raw) == (
        200,
        {"subject": "ci-bot", "role": "operator", "auth": "jwt"},
    )
    claims = jwt.decode(raw, options={"verify_signature": False})
    assert 15 * 60 - 5 <= claims["exp"] - time.time() <= 15 * 60


def test_token_create_reads_a_mounted_secret_file(tmp_path: Path, sqlite_backend: Backend) -> None:
    mounted = tmp_path / "auth-secret"
    mounted.write_text(AUTH_SECRET + "\n")  # as `kubectl create secret --from-file` leaves it
    made = subprocess.run(
        [*TOKEN_COMMAND, "--role", "viewer", "--subject", "dash"],
        env=environment(tmp_path, RECOVEROPS_AUTH_SECRET_FILE=str(mounted)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert me(sqlite_backend, made.stdout.strip())[1]["role"] == "viewer"


@pytest.mark.parametrize(
    ("arguments", "extra", "code", "message"),
    [
        (["--role", "admin"], {}, 3, "RECOVEROPS_AUTH_SECRET is not set"),
        (["--role", "admin"], {"RECOVEROPS_AUTH_SECRET": "changeme"}, 3, "is a placeholder"),
        (["--role", "root"], {"RECOVEROPS_AUTH_SECRET": AUTH_SECRET}, 2, "invalid choice"),
        (["--role", "viewer", "--ttl", "soon"], {}, 2, "is not a duration"),
        (["--role", "viewer", "--ttl", "400d"], {}, 2, "longer than the longest lifetime"),
    ],
)
def test_token_create_refuses_with_one_line(
    tmp_path: Path, arguments: list[str], extra: dict[str, str], code: int, message: str
) -> None:
    made = subprocess.run(
        [*TOKEN_COMMAND, *arguments],
        env=environment(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == code
    assert made.stdout == ""
    assert message in made.stderr and "Traceback" not in made.stderr


def claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "eve",
        "role": "admin",
        "exp": now + timedelta(60),
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            create_token(
                AUTH_SECRET,
                role=Role.ADMIN,
                subject="eve",
                ttl=timedelta(minutes=5),
                now=datetime.now(UTC) - timedelta(hours=1),
            ),
            "expired",
        ),
        (jwt.encode(claims(iss="someone-else"), AUTH_SECRET, algorithm=ALGORITHM), "wrong_issuer"),
        (jwt.encode(claims(aud="another-api"), AUTH_SECRET, algorithm=ALGORITHM), "wrong_audience"),
        (jwt.encode(claims(), "a different secret of 32 bytes or more", "HS256"), "bad_signature"),
        (jwt.encode(claims(), "", algorithm="none"), "alg_not_allowed"),
        (jwt.encode(claims(), AUTH_SECRET + "!" * 32, algorithm="HS512"), "alg_not_allowed"),
        (jwt.encode(claims(exp=None), AUTH_SECRET, algorithm=ALGORITHM), "missing_claim"),
        (jwt.encode(claims(sub=None), AUTH_SECRET, algorithm=ALGORITHM), "missing_claim"),
        ("not-a-jwt", "malformed_token"),
        (token()[:-4] + "AAAA", "bad_signature"),
    ],
    ids=[
        "expired",
        "wrong-issuer",
        "wrong-audience",
        "bad-signature",
        "alg-none",
        "alg-hs512",
        "no-exp",
        "no-sub",
        "not-a-jwt",
        "tampered",
    ],
)
def test_a_token_that_cannot_be_trusted_is_401_with_its_reason(
    sqlite_backend: Backend, raw: str, reason: str
) -> None:
    status, body = me(sqlite_backend, raw)
    assert (status, body["reason"]) == (401, reason), body
    assert "Traceback" not in body["detail"] and "\n" not in body["detail"]


def test_a_token_whose_role_is_unknown_is_403(sqlite_backend: Backend) -> None:
    raw = jwt.encode(claims(role="superuser"), AUTH_SECRET, algorithm=ALGORITHM)
    assert me(sqlite_backend, raw) == (
        403,
        {"detail": "eve has no RecoverOps role", "reason": "no_role"},
    )
