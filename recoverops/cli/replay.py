"""`recoverops replay FILE... [--log LOG...]`: post recorded webhook deliveries to a running
RecoverOps.

Each FILE is one JSON delivery as GitHub, GitLab or Jenkins sent it. The sender is recognised
from the payload's shape (or named with --source), and the request carries what that sender
would: GitHub's event name, delivery id and HMAC signature, GitLab's event name and token,
Jenkins' token, with the secrets from the same settings the server reads. A delivery id is
derived from the file's bytes, so replaying a file twice is one event (--fresh gives new ids).

With --log (once per FILE, in the same order), each failed job's log is first placed under
RECOVEROPS_HOME, where the running system's log fetcher looks before it asks the CI system: the
delivery is analyzed with that log, through the same path as in production, with no CI account.
The system must run with the same RECOVEROPS_HOME (both default to ./.recoverops).

`recoverops replay --dead-letters` instead queues again the events given up on after
RECOVEROPS_MAX_ATTEMPTS deliveries (`GET /dead-letters` lists them), once their cause is fixed:
it talks to the store and the queue the settings name, not to the API.
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
from typing import TYPE_CHECKING, Any, Protocol

from recoverops.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    help_formatter,
    load_settings,
    settings_epilog,
)
from recoverops.errors import InputError
from recoverops.settings import Settings

if TYPE_CHECKING:  # the connectors bring in httpx: `recoverops analyze` need not pay for it
    from recoverops.connectors import JobRef

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


class NotADelivery(InputError, ValueError):
    """The file is not a webhook payload this command knows how to send."""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "replay",
        help="post recorded webhook deliveries to a running RecoverOps (with their job logs)",
        description=__doc__,
        epilog=settings_epilog(*READS),
        formatter_class=help_formatter,
    )
    parser.add_argument("paths", nargs="*", metavar="FILE", help="JSON webhook payloads")
    parser.add_argument(
        "--log",
        dest="logs",
        action="append",
        default=[],
        metavar="LOG",
        help="the failed job's log, placed where the running system fetches it; once per FILE",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the RecoverOps API")
    parser.add_argument("--source", choices=["github", "gitlab", "jenkins"], help="the sender")
    parser.add_argument("--fresh", action="store_true", help="a new delivery id for each post")
    parser.add_argument(
        "--dead-letters",
        action="store_true",
        help="queue the dead letters again (no FILE): events given up on after too many attempts",
    )
    parser.set_defaults(run=run, usage_error=parser.error)


READS = (
    "home",
    "database_url",
    "redis_url",
    "max_log_bytes",
    "github_webhook_secret",
    "gitlab_webhook_token",
    "jenkins_webhook_token",
)


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


def failed_job(raw: bytes, request: Request) -> JobRef:
    """The failed job whose log the running system will fetch for this delivery, found by the
    server's own readers (the webhook's, then the detector's); NotADelivery when there is none."""
    from datetime import UTC, datetime

    from recoverops.actors.jobs import job_identity
    from recoverops.incidents import Source
    from recoverops.serve.webhooks import MalformedPayload, github, gitlab, jenkins
    from recoverops.store import StoredEvent

    body = json.loads(raw)
    sender = request.path.rsplit("/", 1)[-1]
    try:
        if sender == "github":
            delivery = github.delivery(request.headers["X-GitHub-Event"], "replay", body)
        elif sender == "gitlab":
            delivery = gitlab.delivery(request.headers["X-Gitlab-Event"], "replay", body)
        else:
            delivery = jenkins.delivery(body)
    except MalformedPayload as error:
        raise NotADelivery(f"the server would refuse it: {error}") from None
    if not delivery.failure:
        raise NotADelivery("it reports no failed job, so no log is fetched for it")
    event = StoredEvent(
        id=0,
        source=Source(sender),
        kind=delivery.kind,
        delivery_id=delivery.delivery_id,
        received_at=datetime.now(UTC),
        payload_ref="",
        payload=delivery.stored_payload(),
        processed_at=None,
        incident_id=None,
    )
    identity = job_identity(event)
    if identity.ref is None:
        raise NotADelivery(f"it names no job log to fetch: {identity.why}")
    job: JobRef = identity.ref
    return job


def place_log(log: Path, *, job: JobRef, settings: Settings) -> Path:
    """Put `log` where the running system's log fetcher looks for `job`'s log first; its path.
    InputError when the log could not be analyzed (missing, empty, binary, too large)."""
    from recoverops.connectors.placed import placed_path
    from recoverops.inputs import read_log

    read_log(log, max_bytes=settings.max_log_bytes)  # refuse now what the detector would
    target = placed_path(settings.home, job)
    if target is None:
        raise InputError(f"the job's names cannot be a file name: {job}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    partial.write_bytes(log.read_bytes())
    partial.replace(target)  # a fetch sees the whole log or none
    return target


def replay(
    paths: list[str],
    *,
    client: Poster,
    settings: Settings,
    source: str | None,
    fresh: bool,
    logs: list[str] | None = None,
) -> int:
    """Post each file in order (placing its job's log first, when `logs` pairs one with it);
    one JSON line per file on stdout; 1 if any was not accepted."""
    import httpx  # here, not at the top: `recoverops analyze` need not pay for it

    failed = False
    for index, name in enumerate(paths):
        outcome: dict[str, Any] = {"file": name}
        try:
            raw = Path(name).read_bytes()
            request = build_request(raw, settings=settings, source=source, fresh=fresh)
            if logs:
                job = failed_job(raw, request)
                outcome["log"] = str(place_log(Path(logs[index]), job=job, settings=settings))
            response = client.post(request.path, content=raw, headers=request.headers)
        except NotADelivery as error:
            outcome["error"] = str(error)
        except InputError as error:
            outcome["error"] = f"its log: {error}"
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


def replay_dead_letters(settings: Settings) -> int:
    """Queue every dead letter again and mark it replayed; one JSON line per letter."""
    from redis import RedisError
    from sqlalchemy.exc import SQLAlchemyError

    from recoverops.queue import Queue, open_queue
    from recoverops.store import Store

    try:
        store = Store.open(settings)
    except SQLAlchemyError as error:
        sys.stderr.write(f"recoverops: the store is unavailable: {type(error).__name__}\n")
        return EXIT_FAILED
    try:
        queues: dict[str, Queue] = {}
        while letters := store.dead_letters(limit=100):
            for letter in reversed(letters):  # oldest first, as they were queued
                if letter.queue not in queues:
                    queues[letter.queue] = open_queue(settings, store, name=letter.queue)
                queued = queues[letter.queue].enqueue(letter.dedup_key, letter.payload)
                store.mark_dead_letter_replayed(letter.id)
                outcome = {"dead_letter": letter.id, "key": letter.dedup_key, "queued": queued}
                sys.stdout.write(json.dumps(outcome) + "\n")
    except (SQLAlchemyError, RedisError) as error:
        sys.stderr.write(f"recoverops: the store or the queue failed: {type(error).__name__}\n")
        return EXIT_FAILED
    finally:
        store.close()
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.dead_letters and (args.paths or args.logs):
        args.usage_error("--dead-letters takes no FILE and no --log")
    if not args.dead_letters and not args.paths:
        args.usage_error("name at least one FILE to post, or --dead-letters")
    if args.logs and len(args.logs) != len(args.paths):
        args.usage_error(
            f"--log goes once with each FILE: {len(args.paths)} FILE(s), {len(args.logs)} --log"
        )
    settings = load_settings()
    if settings is None:
        return EXIT_CONFIG
    if args.dead_letters:
        return replay_dead_letters(settings)
    import httpx

    with httpx.Client(base_url=args.url, timeout=30.0) as client:
        return replay(
            args.paths,
            client=client,
            settings=settings,
            source=args.source,
            fresh=args.fresh,
            logs=args.logs,
        )
