"""What the HTTP tests share: the recorded payloads, signing, and an app over real servers."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from fastapi.testclient import TestClient
from pydantic import SecretStr

from recoverops.queue import Queue
from recoverops.serve import create_app
from recoverops.settings import Settings
from recoverops.store import Store
from tests.auth_tokens import AUTH_SECRET, bearer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WEBHOOKS = FIXTURES / "webhooks"
CASES = FIXTURES / "cases"

GITHUB_SECRET = "It's a Secret to Everybody"
GITLAB_TOKEN = "gitlab-hook-token"
JENKINS_TOKEN = "jenkins-hook-token"

# What TestClient answers with: Starlette's test client is built on httpx2 (which openai
# installs; without it Starlette falls back to httpx with a deprecation warning).
Response = httpx2.Response


def payload_bytes(relative: str) -> bytes:
    return (WEBHOOKS / relative).read_bytes()


def payload(relative: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(payload_bytes(relative))
    return document


def sign(body: bytes, secret: str = GITHUB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(
    event: str, delivery: str, body: bytes, *, secret: str = GITHUB_SECRET
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body, secret),
    }


def with_secrets(settings: Settings) -> Settings:
    """`settings` with the webhooks' secrets and sign-in on (tests.auth_tokens' secret)."""
    return settings.model_copy(
        update={
            "github_webhook_secret": SecretStr(GITHUB_SECRET),
            "gitlab_webhook_token": SecretStr(GITLAB_TOKEN),
            "jenkins_webhook_token": SecretStr(JENKINS_TOKEN),
            "auth_secret": SecretStr(AUTH_SECRET),
        }
    )


@dataclass
class Backend:
    """A real store and queue, and the settings (with webhook secrets) naming the store."""

    name: str
    settings: Settings
    store: Store
    queue: Queue

    @contextmanager
    def client(self, headers: dict[str, str] | None = None, **options: Any) -> Iterator[TestClient]:
        """A client of the app; its requests carry an admin's token unless `headers` say
        otherwise (`{}`: none)."""
        app = create_app(self.settings, store=self.store, queue=self.queue, **options)
        with TestClient(app, headers=bearer() if headers is None else headers) as client:
            yield client

    def waiting(self) -> int:
        return self.queue.depth().waiting


@contextmanager
def unused_port() -> Iterator[int]:
    """A local port nothing listens on (held, so nothing starts listening while we use it)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]
