"""A small in-process target system for the engine's own tests (as httpx's MockTransport is for
its clients): services that run a version, healthy only on versions the test calls good. One
action kind sets a service's version; it records every apply, so a test can count them.

The engine's behaviour against real systems is tested with moto, a real kube-apiserver and
Prism (tests/remediation/test_aws.py, test_kubernetes.py, test_ci.py).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from recoverops.remediation.kind import ActionContext, ActionParams
from recoverops.remediation.kinds import KINDS
from recoverops.remediation.model import Health, Inverse, Risk, Snapshot, System


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


@dataclass
class World:
    versions: dict[str, str] = field(default_factory=dict)
    good: set[str] = field(default_factory=lambda: {"v1"})
    applies: list[tuple[str, str, str]] = field(default_factory=list)  # (key, service, version)
    fail_apply: set[str] = field(default_factory=set)  # services whose API refuses changes
    kill_after_apply: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def apply(self, key: str, service: str, version: str) -> None:
        with self.lock:
            if service in self.fail_apply:
                raise RuntimeError(f"the API refused to change {service}")
            self.versions[service] = version
            self.applies.append((key, service, version))
        if self.kill_after_apply:
            raise Killed


class VersionParams(ActionParams):
    service: str = Field(pattern=r"^[a-z0-9\-]+$")
    version: str = Field(pattern=r"^v[0-9]+$")

    def target(self) -> str:
        return f"mem:{self.service}"


class SetVersion:
    kind: ClassVar[str] = "mem.set_version"
    system: ClassVar[System] = System.KUBERNETES  # any system: the remediator's lane
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = VersionParams
    validate_within: ClassVar[float] = 5.0
    sensitive: ClassVar[bool] = False

    def __init__(self, world: World) -> None:
        self.world = world

    def snapshot(self, ctx: ActionContext, params: VersionParams) -> Snapshot:
        before = self.world.versions[params.service]
        return Snapshot(
            {"version": before},
            Inverse(self.kind, {"service": params.service, "version": before}),
        )

    def apply(self, ctx: ActionContext, params: VersionParams, *, key: str) -> Mapping[str, Any]:
        self.world.apply(key, params.service, params.version)
        return {"version": params.version}

    def check(
        self,
        ctx: ActionContext,
        params: VersionParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        version = self.world.versions[params.service]
        if version in self.world.good:
            return Health.healthy(f"{params.service} runs {version}")
        return Health.waiting(f"{params.service} runs {version}, which is unhealthy")


class Grant(SetVersion):
    """A sensitive kind (like IAM): only proposed unless a rule names it."""

    kind: ClassVar[str] = "mem.grant"
    sensitive: ClassVar[bool] = True
    risk: ClassVar[Risk] = Risk.HIGH


def kinds_for(world: World) -> dict[str, Any]:
    return {**KINDS, "mem.set_version": SetVersion(world), "mem.grant": Grant(world)}


def next_wednesday_ten() -> datetime:
    """The next Wednesday, 10:00 UTC, after now: a fixed weekday and hour for the policies' time
    windows, and later than anything the store timestamps with the real clock (an incident's own
    timeline entries), so the two kinds of time sort as they happen."""
    now = datetime.now(UTC)
    at = now.replace(hour=10, minute=0, second=0, microsecond=0)
    at += timedelta(days=(2 - now.weekday()) % 7)
    return at if at > now else at + timedelta(days=7)


class Clock:
    """A clock the test moves: leases, deadlines and windows without waiting for them. With
    `tick`, every reading moves it on by that many seconds (a validation's deadline arrives)."""

    def __init__(self, start: datetime | None = None, *, tick: float = 0.0) -> None:
        self.now = start or next_wednesday_ten()
        self.tick = timedelta(seconds=tick)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now = self.now
            self.now += self.tick
            return now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
