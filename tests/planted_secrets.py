"""Secrets to plant in logs: every kind `recoverops.redaction` masks, generated from a seeded
random source (format-valid and fake, never real), and how to tell that one leaked.

    plant(kind)          a line holding a fresh secret of that kind, the secret's random part,
                         and what its masked form still shows (`ghp_`)
    leaks(secret, text)  the pieces of the secret that text shows (none, when redaction worked)

Used by the redaction tests, the HTTP and MLflow checks, and `bench/redaction.py`.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
LOWER = string.ascii_lowercase + string.digits
BASE64 = ALNUM + "+/"


@dataclass(frozen=True)
class Planted:
    """A line holding a secret, the secret's random part (which must never be shown), and what
    the masked secret still starts with."""

    line: str
    secret: str
    shown: str


def _text(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _jwt(rng: random.Random) -> Planted:
    header = _b64url({"alg": "HS256", "typ": "JWT"})
    body = _b64url({"sub": "fake-user", "iat": 1700000000})
    secret = f"{body}.{_text(rng, ALNUM + '-_', 43)}"
    return Planted(f"curl -H 'Authorization: Bearer {header}.{secret}'", secret, "eyJ")


def _token(
    prefix: str, alphabet: str, size: int, template: str
) -> Callable[[random.Random], Planted]:
    def plant(rng: random.Random) -> Planted:
        secret = _text(rng, alphabet, size)
        return Planted(template.format(prefix + secret), secret, prefix)

    return plant


def _named(template: str, alphabet: str, size: int) -> Callable[[random.Random], Planted]:
    def plant(rng: random.Random) -> Planted:
        secret = _text(rng, alphabet, size)
        return Planted(template.format(secret), secret, template.split("{")[0])

    return plant


def _url_password(rng: random.Random) -> Planted:
    secret = _text(rng, ALNUM, 10) + "!$@" + _text(rng, ALNUM, 6)
    return Planted(
        f"fatal: unable to access 'https://deploy:{secret}@git.example.com/org/repo.git/'",
        secret,
        "https://deploy:",
    )


def _password(rng: random.Random) -> Planted:
    secret = "hunter2-" + _text(rng, LOWER, 4)  # a password is a secret however guessable
    return Planted(f"DB_PASSWORD={secret}", secret, "DB_PASSWORD=")


def _azure(rng: random.Random) -> Planted:
    secret = _text(rng, BASE64, 86) + "=="
    line = (
        "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=fakeacct;"
        f"AccountKey={secret};EndpointSuffix=core.windows.net"
    )
    return Planted(line, secret, "AccountKey=")


def _fine_grained(rng: random.Random) -> Planted:
    secret = f"{_text(rng, ALNUM, 22)}_{_text(rng, ALNUM, 59)}"
    return Planted(f"export GH_TOKEN=github_pat_{secret}", secret, "github_pat_")


def _slack_token(rng: random.Random) -> Planted:
    secret = (
        f"{_text(rng, string.digits, 12)}-{_text(rng, string.digits, 13)}-{_text(rng, LOWER, 24)}"
    )
    return Planted(f"SLACK_BOT xoxb-{secret}", secret, "xoxb-")


def _slack_webhook(rng: random.Random) -> Planted:
    secret = f"T{_text(rng, UPPER, 8)}/B{_text(rng, UPPER, 10)}/{_text(rng, ALNUM, 24)}"
    return Planted(
        f"posting to https://hooks.slack.com/services/{secret}",
        secret,
        "https://hooks.slack.com/services/",
    )


def _basic_auth(rng: random.Random) -> Planted:
    secret = base64.b64encode(f"ci-bot:{_text(rng, ALNUM, 20)}".encode()).decode()
    line = f"curl -H 'Authorization: Basic {secret}' https://ci.example.com"
    return Planted(line, secret, "Basic ")


def _npm_auth(rng: random.Random) -> Planted:
    secret = base64.b64encode(f"publisher:{_text(rng, ALNUM, 16)}".encode()).decode()
    return Planted(f"//registry.npmjs.org/:_auth={secret}", secret, ":_auth=")


PLANTS: dict[str, Callable[[random.Random], Planted]] = {
    "github classic": _token("ghp_", ALNUM, 36, "remote: Invalid username or token {}"),
    "github fine-grained": _fine_grained,
    "github app server": _token("ghs_", ALNUM, 36, "https://x-access-token:{}@github.com/o/r"),
    "github app user": _token("ghu_", ALNUM, 36, "token {}"),
    "github oauth": _token("gho_", ALNUM, 36, "GITHUB_TOKEN: {}"),
    "github refresh": _token("ghr_", ALNUM, 36, "refresh_token={}"),
    "gitlab personal": _token("glpat-", ALNUM + "_-", 20, "PRIVATE-TOKEN: {}"),
    "gitlab runner": _token("glrt-", ALNUM + "_-", 24, "runner token {}"),
    "gitlab deploy": _token("gldt-", ALNUM + "_-", 24, "git clone with {}"),
    "aws access key id": _token("AKIA", UPPER, 16, "AWS_ACCESS_KEY_ID={}"),
    "aws secret key": _named("aws_secret_access_key = {}", BASE64, 40),
    "aws secret key quoted": _named('"AWS_SECRET_ACCESS_KEY": "{}"', BASE64, 40),
    "slack token": _slack_token,
    "slack webhook": _slack_webhook,
    "npm authToken": _token("npm_", ALNUM, 36, "//registry.npmjs.org/:_authToken={}"),
    "npm bare": _token("npm_", ALNUM, 36, "NODE_AUTH_TOKEN {}"),
    "google api key": _token("AIza", ALNUM + "_-", 35, "maps key {} rejected"),
    "azure storage": _azure,
    "jwt": _jwt,
    "url password": _url_password,
    "token assignment": _named("DEPLOY_TOKEN={}", ALNUM, 32),
    "secret assignment": _named('"client_secret": "{}"', ALNUM + "-_", 40),
    "key assignment": _named("SIGNING_KEY: {}", "0123456789abcdef", 64),
    "password assignment": _password,
    "authorization basic": _basic_auth,
    "npm _auth": _npm_auth,
}


def plant(kind: str) -> Planted:
    return PLANTS[kind](random.Random(kind))


def leaks(secret: str, text: str) -> list[str]:
    """Pieces of `secret` that `text` shows: the whole, or any 8 characters of it in a row."""
    if secret in text:
        return [secret]
    return [secret[i : i + 8] for i in range(len(secret) - 7) if secret[i : i + 8] in text]


KINDS = tuple(sorted(PLANTS))
