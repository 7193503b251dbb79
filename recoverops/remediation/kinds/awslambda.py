"""Lambda: its configuration (memory, timeout, environment), its reserved concurrency, and an
alias moved back to the version it pointed at before. Each inverse restores the snapshot's
values; each validation reads them back and waits for the function to be Active with its last
update successful.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, model_validator

from recoverops.remediation.kind import ActionContext, ActionParams
from recoverops.remediation.model import Health, Inverse, Risk, Snapshot, System

FUNCTION_NAME = r"^[A-Za-z0-9_\-:]{1,140}$"


class FunctionParams(ActionParams):
    function_name: str = Field(pattern=FUNCTION_NAME)

    def target(self) -> str:
        return f"aws:lambda:{self.function_name}"


class ConfigurationParams(FunctionParams):
    memory_size: int | None = Field(default=None, ge=128, le=10240)
    timeout: int | None = Field(default=None, ge=1, le=900)
    # Replaces the function's whole environment when given.
    environment: dict[str, str] | None = None

    @model_validator(mode="after")
    def changes_something(self) -> ConfigurationParams:
        if self.memory_size is None and self.timeout is None and self.environment is None:
            raise ValueError("give memory_size, timeout or environment")
        return self

    def wanted(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in (
                ("memory_size", self.memory_size),
                ("timeout", self.timeout),
                ("environment", self.environment),
            )
            if value is not None
        }


def _configuration(ctx: ActionContext, name: str) -> dict[str, Any]:
    raw = ctx.clients.aws("lambda").get_function_configuration(FunctionName=name)
    return {
        "memory_size": raw.get("MemorySize"),
        "timeout": raw.get("Timeout"),
        "environment": (raw.get("Environment") or {}).get("Variables", {}),
        "state": raw.get("State"),
        "last_update_status": raw.get("LastUpdateStatus"),
    }


def _ready(config: Mapping[str, Any], name: str) -> Health | None:
    """None when the function is ready; else why it is not (yet)."""
    if config.get("state") not in (None, "Active"):
        if config.get("state") == "Failed":
            return Health.failed(f"{name} is in state Failed")
        return Health.waiting(f"{name} is {config.get('state')}")
    if config.get("last_update_status") == "Failed":
        return Health.failed(f"{name}: its last update failed")
    if config.get("last_update_status") not in (None, "Successful"):
        return Health.waiting(f"{name}: update {config.get('last_update_status')}")
    return None


class UpdateConfiguration:
    kind: ClassVar[str] = "lambda.update_configuration"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = ConfigurationParams
    validate_within: ClassVar[float] = 120.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: ConfigurationParams) -> Snapshot:
        config = _configuration(ctx, params.function_name)
        before = {name: config[name] for name in params.wanted()}
        return Snapshot(
            config, Inverse(self.kind, {"function_name": params.function_name, **before})
        )

    def apply(
        self, ctx: ActionContext, params: ConfigurationParams, *, key: str
    ) -> Mapping[str, Any]:
        request: dict[str, Any] = {"FunctionName": params.function_name}
        if params.memory_size is not None:
            request["MemorySize"] = params.memory_size
        if params.timeout is not None:
            request["Timeout"] = params.timeout
        if params.environment is not None:
            request["Environment"] = {"Variables": params.environment}
        answer = ctx.clients.aws("lambda").update_function_configuration(**request)
        return {
            "last_modified": answer.get("LastModified"),
            "revision_id": answer.get("RevisionId"),
        }

    def check(
        self,
        ctx: ActionContext,
        params: ConfigurationParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        config = _configuration(ctx, params.function_name)
        not_ready = _ready(config, params.function_name)
        if not_ready is not None:
            return not_ready
        off = {k: config[k] for k, v in params.wanted().items() if config[k] != v}
        if off:
            return Health.waiting(f"{params.function_name} still has {off}")
        return Health.healthy(f"{params.function_name} has {params.wanted()}")


class ConcurrencyParams(FunctionParams):
    # None removes the reservation (the function shares the account's pool again).
    reserved: int | None = Field(ge=0)


class ReservedConcurrency:
    kind: ClassVar[str] = "lambda.reserved_concurrency"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = ConcurrencyParams
    validate_within: ClassVar[float] = 60.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: ConcurrencyParams) -> Snapshot:
        before = self._reserved(ctx, params.function_name)
        inverse = Inverse(self.kind, {"function_name": params.function_name, "reserved": before})
        return Snapshot({"reserved": before}, inverse)

    def apply(
        self, ctx: ActionContext, params: ConcurrencyParams, *, key: str
    ) -> Mapping[str, Any]:
        client = ctx.clients.aws("lambda")
        if params.reserved is None:
            client.delete_function_concurrency(FunctionName=params.function_name)
        else:
            client.put_function_concurrency(
                FunctionName=params.function_name,
                ReservedConcurrentExecutions=params.reserved,
            )
        return {"reserved": params.reserved}

    def check(
        self,
        ctx: ActionContext,
        params: ConcurrencyParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        now = self._reserved(ctx, params.function_name)
        if now != params.reserved:
            return Health.waiting(f"{params.function_name}: reserved concurrency is {now}")
        return Health.healthy(f"{params.function_name}: reserved concurrency {now}")

    @staticmethod
    def _reserved(ctx: ActionContext, name: str) -> int | None:
        answer = ctx.clients.aws("lambda").get_function_concurrency(FunctionName=name)
        value = answer.get("ReservedConcurrentExecutions")
        return None if value is None else int(value)


class AliasParams(FunctionParams):
    alias: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,128}$")
    # The published version to point the alias at; None: the one before its current version.
    version: str | None = Field(default=None, pattern=r"^[0-9]+$")

    def target(self) -> str:
        return f"aws:lambda:{self.function_name}:{self.alias}"


class AliasRollback:
    kind: ClassVar[str] = "lambda.alias_rollback"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = AliasParams
    validate_within: ClassVar[float] = 60.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: AliasParams) -> Snapshot:
        current = self._alias_version(ctx, params)
        goal = self._goal(ctx, params, current)
        inverse = Inverse(
            self.kind,
            {"function_name": params.function_name, "alias": params.alias, "version": current},
        )
        return Snapshot({"version": current, "goal": goal}, inverse)

    def apply(self, ctx: ActionContext, params: AliasParams, *, key: str) -> Mapping[str, Any]:
        current = self._alias_version(ctx, params)
        goal = self._goal(ctx, params, current)
        ctx.clients.aws("lambda").update_alias(
            FunctionName=params.function_name, Name=params.alias, FunctionVersion=goal
        )
        return {"from": current, "to": goal}

    def check(
        self,
        ctx: ActionContext,
        params: AliasParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        goal = (applied or {}).get("to") or snapshot.state.get("goal")
        now = self._alias_version(ctx, params)
        if now != goal:
            return Health.waiting(f"alias {params.alias} points at {now}, not {goal}")
        raw = ctx.clients.aws("lambda").get_function_configuration(
            FunctionName=params.function_name, Qualifier=goal
        )
        config = {"state": raw.get("State"), "last_update_status": raw.get("LastUpdateStatus")}
        not_ready = _ready(config, f"{params.function_name}:{goal}")
        return not_ready or Health.healthy(f"alias {params.alias} → version {goal}")

    @staticmethod
    def _alias_version(ctx: ActionContext, params: AliasParams) -> str:
        answer = ctx.clients.aws("lambda").get_alias(
            FunctionName=params.function_name, Name=params.alias
        )
        return str(answer["FunctionVersion"])

    @staticmethod
    def _goal(ctx: ActionContext, params: AliasParams, current: str) -> str:
        if params.version is not None:
            return params.version
        client = ctx.clients.aws("lambda")
        versions: list[int] = []
        for page in client.get_paginator("list_versions_by_function").paginate(
            FunctionName=params.function_name
        ):
            versions += [int(v["Version"]) for v in page["Versions"] if v["Version"] != "$LATEST"]
        if not current.isdigit():
            raise LookupError(
                f"alias {params.alias} points at {current}: no version to go back from"
            )
        older = [v for v in versions if v < int(current)]
        if not older:
            raise LookupError(f"{params.function_name} has no version before {current}")
        return str(max(older))
