"""`recoverops replay FILE...`: post recorded webhook payloads to a running RecoverOps.

Each file is one JSON delivery as GitHub, GitLab or Jenkins sent it. The sender is recognised
from the payload's shape (or named with --source), and the request carries what that sender
would: GitHub's event name, delivery id and HMAC signature, GitLab's event name and token,
Jenkins' token, with the secrets from the same settings the server reads. A delivery id is
derived from the file's bytes, so replaying a file twice is one event (--fresh gives new ids).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from recoverops.cli.common import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, load_settings
from recoverops.settings import Settings

_GITHUB_EVENTS = ("workflow_job", "workflow_run", "check_run", "check_suite")
_GITLAB_EVENTS = {"build": "Job Hook", "pipeline": "Pipeline Hook"}


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    headers: dict[str, str]


class Response(Protocol):
    @property
    def status_code(self) -> int: ...
    @property
    def is_success(self) -> bool: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...


class Poster(Protocol):
    """What replay needs of an HTTP client: an httpx.Client, or a test's in-process client."""

    @property
    def base_url(self) -> Any: ...
    def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> Response: ...


class NotADelivery(ValueError):
    """The file is not a webhook payload this command knows how to send."""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "replay",
        help="post recorded webhook payloads to a running RecoverOps",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="FILE", help="JSON webhook payloads")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the RecoverOps API")
    parser.add_argument("--source", choices=["github", "gitlab", "jenkins"], help="the sender")
    parser.add_argument("--fresh", action="store_true", help="a new delivery id for each post")
    parser.set_defaults(run=run)


def sender_of(body: dict[str, Any]) -> str:
    if "object_kind" in body:
        return "gitlab"
    if isinstance(body.get("build"), dict) and "phase" in body["build"]:
        return "jenkins"
    if "zen" in body or any(event in body for event in _GITHUB_EVENTS):
        return "github"
    raise NotADelivery("not a GitHub, GitLab or Jenkins webhook payload (use --source)")


def github_event(body: dict[str, Any]) -> str:
    if "zen" in body and "hook_id" in body:
        return "ping"
    for event in _GITHUB_EVENTS:
        if event in body:
            return event
    raise NotADelivery("a GitHub payload of an event replay does not know")


def build_request(raw: bytes, *, settings: Settings, source: str | None, fresh: bool) -> Request:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotADelivery(f"not JSON: {error}") from None
    if not isinstance(body, dict):
        raise NotADelivery("a webhook payload is a JSON object")
    sender = source or sender_of(body)
    delivery = str(uuid.uuid4()) if fresh else hashlib.sha256(raw).hexdigest()[:32]
    headers = {"Content-Type": "application/json"}
    if sender == "github":
        headers |= {"X-GitHub-Event": github_event(body), "X-GitHub-Delivery": delivery}
        if settings.github_webhook_secret is not None:
            key = settings.github_webhook_secret.get_secret_value().encode()
            digest = hmac.new(key, raw, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
    elif sender == "gitlab":
        kind = body.get("object_kind")
        if kind not in _GITLAB_EVENTS:
            raise NotADelivery(f"a GitLab {kind!r} hook; replay sends job and pipeline hooks")
        headers |= {"X-Gitlab-Event": _GITLAB_EVENTS[kind], "Idempotency-Key": delivery}
        if settings.gitlab_webhook_token is not None:
            headers["X-Gitlab-Token"] = settings.gitlab_webhook_token.get_secret_value()
    elif settings.jenkins_webhook_token is not None:
        headers["X-Jenkins-Token"] = settings.jenkins_webhook_token.get_secret_value()
    return Request(path=f"/webhooks/{sender}", headers=headers)


def replay(
    paths: list[str], *, client: Poster, settings: Settings, source: str | None, fresh: bool
) -> int:
    """Post each file in order; one JSON line per file on stdout; 1 if any was not accepted."""
    import httpx  # here, not at the top: `recoverops analyze` need not pay for it

    failed = False
    for name in paths:
        outcome: dict[str, Any] = {"file": name}
        try:
            raw = Path(name).read_bytes()
            request = build_request(raw, settings=settings, source=source, fresh=fresh)
            response = client.post(request.path, content=raw, headers=request.headers)
        except NotADelivery as error:
            outcome["error"] = str(error)
        except OSError as error:
            outcome["error"] = f"cannot be read ({error.strerror or error})"
        except httpx.HTTPError as error:
            outcome["error"] = f"cannot reach {client.base_url}: {error}"
        else:
            outcome["status"] = response.status_code
            outcome["response"] = _body(response)
            if response.is_success:
                sys.stdout.write(json.dumps(outcome) + "\n")
                continue
        failed = True
        sys.stdout.write(json.dumps(outcome) + "\n")
        sys.stderr.write(
            f"recoverops: {name}: not accepted ({outcome.get('error', outcome.get('status'))})\n"
        )
    return EXIT_FAILED if failed else EXIT_OK


def _body(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None:
        return EXIT_CONFIG
    import httpx

    with httpx.Client(base_url=args.url, timeout=30.0) as client:
        return replay(
            args.paths, client=client, settings=settings, source=args.source, fresh=args.fresh
        )
