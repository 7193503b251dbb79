"""The remediation policy: a YAML file (RECOVEROPS_POLICY) validated into typed models on load.

    version: 1
    default: approve                 # the effect when no rule matches: auto | approve | deny
    approval_timeout: 30m            # how long an approval may take (s, m, h, d)
    environments:                    # a target's environment: the first whose pattern matches
      production: ["k8s:prod/*", "aws:*:prod-*"]
      staging: ["k8s:staging/*"]
    rules:                           # the first rule matching kind, target and environment wins
      - name: staging-restarts
        kinds: ["k8s.rollout_restart", "k8s.delete_pod"]    # shell patterns: "k8s.*"
        environments: [staging]
        effect: auto
      - name: production-asks
        environments: [production]
        effect: approve
        approval_timeout: 15m
    limits:                          # per target: actions started, and risk points spent
      - targets: ["*"]
        max_actions: 3
        budget: 10                   # risk points (risk_points below) per target per window
        per: 1h
    risk_points: {low: 1, medium: 3, high: 10}
    breaker:                         # stop acting on a target after this many failed fixes
      failures: 3
      within: 24h
    windows:                         # when changes may happen; outside: approve or deny
      - name: office-hours
        environments: [production]
        days: [mon, tue, wed, thu, fri]
        start: "08:00"
        end: "18:00"
        timezone: Europe/Berlin
        outside: approve

A file that is not valid YAML, has an unknown key, a bad value, a pattern that names no action
kind, or an environment no target can have is refused with the file and line
(ConfigurationError). Sensitive kinds (IAM) are only proposed unless a rule names them exactly.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from recoverops.errors import ConfigurationError
from recoverops.remediation.kind import glob_match
from recoverops.remediation.model import Risk
from recoverops.remediation.yaml_lines import explain, line_of, load_with_lines

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _seconds(value: Any) -> Any:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration like 90s, 15m, 1h or 2d")
        return float(match.group(1)) * _UNITS[match.group(2)]
    return value


Duration = Annotated[float, BeforeValidator(_seconds), Field(gt=0)]
Patterns = Annotated[list[str], Field(min_length=1)]
RuleEffect = Literal["auto", "approve", "deny"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    name: str = Field(min_length=1)
    kinds: Patterns = ["*"]
    targets: Patterns = ["*"]
    environments: Patterns = ["*"]
    effect: RuleEffect
    approval_timeout: Duration | None = None
    line: int = 0  # where the rule starts in its file (set on load)

    def matches(self, *, kind: str, target: str, environment: str) -> bool:
        return (
            any(glob_match(kind, p) for p in self.kinds)
            and any(glob_match(target, p) for p in self.targets)
            and any(glob_match(environment, p) for p in self.environments)
        )

    def names_exactly(self, kind: str) -> bool:
        return kind in self.kinds


class Limit(_Strict):
    targets: Patterns = ["*"]
    max_actions: int | None = Field(default=None, ge=1)
    budget: int | None = Field(default=None, ge=1)
    per: Duration

    @model_validator(mode="after")
    def limits_something(self) -> Limit:
        if self.max_actions is None and self.budget is None:
            raise ValueError("give max_actions, budget or both")
        return self


class Breaker(_Strict):
    failures: int = Field(default=3, ge=1)
    within: Duration = 24 * 3600.0


class Window(_Strict):
    name: str = Field(min_length=1)
    targets: Patterns = ["*"]
    environments: Patterns = ["*"]
    days: list[Day] = list(DAYS)
    start: time
    end: time
    timezone: str = "UTC"
    outside: Literal["approve", "deny"] = "approve"

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def start_before_end(self) -> Window:
        if self.start == self.end:
            raise ValueError("start and end are the same time: the window would be empty")
        return self

    def applies_to(self, *, target: str, environment: str) -> bool:
        return any(glob_match(target, p) for p in self.targets) and any(
            glob_match(environment, p) for p in self.environments
        )


class Policy(_Strict):
    version: Literal[1]
    default: RuleEffect = "approve"
    approval_timeout: Duration = 3600.0
    environments: dict[str, Patterns] = {}
    rules: list[Rule] = []
    limits: list[Limit] = []
    risk_points: dict[Risk, Annotated[int, Field(ge=0)]] = {
        Risk.LOW: 1,
        Risk.MEDIUM: 3,
        Risk.HIGH: 10,
    }
    breaker: Breaker = Breaker()
    windows: list[Window] = []
    source: str = "<policy>"

    @field_validator("risk_points")
    @classmethod
    def every_risk(cls, value: dict[Risk, int]) -> dict[Risk, int]:
        missing = [risk.value for risk in Risk if risk not in value]
        if missing:
            raise ValueError(f"give points for every risk; missing {missing}")
        return value

    def environment_of(self, target: str) -> str:
        for name, patterns in self.environments.items():
            if any(glob_match(target, p) for p in patterns):
                return name
        return "default"

    def rule_for(self, *, kind: str, target: str, environment: str) -> Rule | None:
        for rule in self.rules:
            if rule.matches(kind=kind, target=target, environment=environment):
                return rule
        return None


def load_policy(path: Path, *, known_kinds: Collection[str]) -> Policy:
    """The policy in `path`; ConfigurationError naming the file and line when it is invalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{path}: cannot read the policy: {error}") from None
    return parse_policy(text, source=str(path), known_kinds=known_kinds)


def parse_policy(text: str, *, source: str, known_kinds: Collection[str]) -> Policy:
    raw, lines = load_with_lines(text, source=source)
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{source}:1: a policy is a mapping with 'version: 1' and rules")
    for index, rule in enumerate(raw.get("rules") or []):
        if isinstance(rule, dict) and "line" in rule:
            where = line_of(lines, ("rules", index, "line"))
            raise ConfigurationError(f"{source}:{where}: rules.{index}.line: unknown key")
    try:
        policy = Policy.model_validate({**raw, "source": source})
    except ValidationError as error:
        raise explain(error, lines, source=source) from None
    rules = [
        rule.model_copy(update={"line": line_of(lines, ("rules", index))})
        for index, rule in enumerate(policy.rules)
    ]
    policy = policy.model_copy(update={"rules": rules})
    _check_names(policy, lines, source=source, known_kinds=known_kinds)
    return policy


def _check_names(
    policy: Policy, lines: dict[Any, int], *, source: str, known_kinds: Collection[str]
) -> None:
    """Refuse what validates but cannot mean what its author meant: a kind pattern that matches
    no kind (a typo never matches, so its rule would silently never apply), an environment that
    is never defined, two rules of one name."""
    environments = {*policy.environments, "default"}
    seen: set[str] = set()
    for index, rule in enumerate(policy.rules):
        where = f"{source}:{line_of(lines, ('rules', index))}"
        if rule.name in seen:
            raise ConfigurationError(f"{where}: a second rule named {rule.name!r}")
        seen.add(rule.name)
        for pattern in rule.kinds:
            if not any(glob_match(kind, pattern) for kind in known_kinds):
                known = ", ".join(sorted(known_kinds))
                raise ConfigurationError(
                    f"{where}: rule {rule.name!r}: {pattern!r} matches no action kind ({known})"
                )
        _check_environments(
            rule.environments, environments, where=where, what=f"rule {rule.name!r}"
        )
    for index, window in enumerate(policy.windows):
        where = f"{source}:{line_of(lines, ('windows', index))}"
        _check_environments(
            window.environments, environments, where=where, what=f"window {window.name!r}"
        )


def _check_environments(
    patterns: list[str], environments: set[str], *, where: str, what: str
) -> None:
    for pattern in patterns:
        if not any(glob_match(name, pattern) for name in environments):
            raise ConfigurationError(
                f"{where}: {what}: environment {pattern!r} is not one of {sorted(environments)}"
            )
