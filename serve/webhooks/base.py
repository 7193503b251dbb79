"""What every webhook source turns a delivery into, and the checks they share.

Nothing here knows about HTTP: a source module verifies the caller and reads the payload into a
`Delivery`, raising `MalformedPayload` with the reason when the payload is not one it can read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from recoverops.errors import RecoverOpsError

# The store keys an event by (source, delivery_id) in a 255-character column.
MAX_DELIVERY_ID = 255

T = TypeVar("T")


class MalformedPayload(RecoverOpsError, ValueError):
    """The body is not a payload of the kind its headers announce; the message says why."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery, understood.

    `kind` is what happened ("workflow_job.completed", "pipeline", "build.finalized");
    `delivery_id` makes redelivery idempotent; `failure` says whether the event reports a failed
    job, the only events analyzed downstream; `target` names the job or pipeline that ran.
    """

    kind: str
    delivery_id: str
    failure: bool
    target: str
    body: dict[str, Any]
    # A failure whose payload has no log to fetch (an AWS event) brings the text to analyze and
    # the cause its incident is grouped by, as a watching source's does (`recoverops.sources`).
    text: str | None = None
    cause: str | None = None
    subject: str | None = None
    # The workload such a failure names (an ECS service, an alarm's function): stored where a
    # watching source stores it (`WatchedFailure.identity`), so a deploy of it is matched.
    identity: Mapping[str, Any] | None = None

    def stored_payload(self) -> dict[str, Any]:
        """What the store keeps for the event: the verdict and the payload as received."""
        stored = {"failure": self.failure, "target": self.target, "body": self.body}
        if self.text is not None and self.cause is not None:
            stored |= {"text": self.text, "cause": self.cause, "subject": self.subject or ""}
            if self.identity is not None:
                stored["identity"] = dict(self.identity)
        return stored


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in `raw`, or MalformedPayload saying what is wrong with it."""
    if not raw.strip():
        raise MalformedPayload("empty body")
    try:
        document = json.loads(raw)
    except UnicodeDecodeError as error:
        raise MalformedPayload(f"body is not UTF-8 text: {error.reason}") from None
    except json.JSONDecodeError as error:
        raise MalformedPayload(
            f"body is not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(document, dict):
        raise MalformedPayload(f"body is a JSON {type(document).__name__}, not an object")
    return document


def field(document: Mapping[str, Any], path: str, kind: type[T]) -> T:
    """The value at the dotted `path`, which must be present and a `kind`."""
    value: Any = document
    walked: list[str] = []
    for name in path.split("."):
        walked.append(name)
        if not isinstance(value, Mapping) or name not in value:
            raise MalformedPayload(f"missing field {'.'.join(walked)}")
        value = value[name]
    # bool is an int in Python; a JSON true is not a build number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedPayload(f"field {path} must be {_json_type(kind)}, not {value!r:.60}")
    return value


def optional_field(document: Mapping[str, Any], path: str, kind: type[T]) -> T | None:
    """The value at `path` if present and not null; MalformedPayload if it has another type."""
    value: Any = document
    for name in path.split("."):
        if not isinstance(value, Mapping) or value.get(name) is None:
            return None
        value = value[name]
    return field(document, path, kind)


def secret_matches(given: str | None, expected: str) -> bool:
    """Whether the caller's token is the configured one, compared in constant time."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def bounded_delivery_id(value: str) -> str:
    """`value`, or its SHA-256 when it would not fit the store's delivery id column."""
    if len(value) <= MAX_DELIVERY_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _json_type(kind: type) -> str:
    return {str: "a string", int: "an integer", bool: "a boolean", dict: "an object"}.get(
        kind, kind.__name__
    )
