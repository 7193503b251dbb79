"""The extension point: one action kind is one object with three methods.

    snapshot(ctx, params)                   read the target's state before the change, and
                                            the inverse that would restore it
    apply(ctx, params, key=...)             make the change; return what the API said
    check(ctx, params, snapshot, applied)   is the target healthy now? (`applied` is what
                                            apply returned; None when a resumed action does
                                            not know whether apply ran)

The engine (`recoverops.remediation.engine`) does the rest for every kind: the policy, the
approval, storing the snapshot before the change, the deadline, polling, rolling back, the
audit log, and turning a kind's exceptions into the action's result. A kind's parameters are a
pydantic model (`ActionParams`) that names the target it acts on.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from recoverops.remediation.clients import Clients
from recoverops.remediation.model import Health, Risk, Snapshot, System


class ActionParams(BaseModel):
    """A kind's parameters: validated on plan, stored as JSON, and naming their target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def target(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class ActionContext:
    """What a kind may use: the target systems' clients (their calls are audited)."""

    clients: Clients


class ActionKind(Protocol):
    kind: ClassVar[str]  # "k8s.scale": the system's prefix, then what it does
    system: ClassVar[System]
    risk: ClassVar[Risk]
    params: ClassVar[type[ActionParams]]
    # Seconds a validation may take unless the plan says otherwise.
    validate_within: ClassVar[float]
    # A sensitive kind (IAM) is only ever proposed unless a policy rule names it explicitly.
    sensitive: ClassVar[bool]

    def snapshot(self, ctx: ActionContext, params: Any) -> Snapshot: ...

    def apply(self, ctx: ActionContext, params: Any, *, key: str) -> Mapping[str, Any]: ...

    def check(
        self,
        ctx: ActionContext,
        params: Any,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health: ...


def glob_match(value: str, pattern: str) -> bool:
    """Shell-style match, case-sensitive on every platform (target names are)."""
    return fnmatch.fnmatchcase(value, pattern)
