"""The engine under streams of plans, approvals, runs, dying remediators and time, with random
policies (tests/remediation/fuzz.py): nothing outside policy, nothing applied twice, no limit
exceeded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from recoverops.remediation.clients import Clients
from recoverops.settings import Settings
from recoverops.store import Store
from tests.remediation.fuzz import policies, run_stream, streams


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Clients]]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    settings_ = Settings(home=home, database_url=None, redis_url=None)
    store = Store.open(settings_)
    clients = Clients(settings_)
    yield store, clients
    clients.close()
    store.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(policy=policies(), ops=streams)
def test_no_action_outside_policy_and_none_applied_twice(
    fuzz_store: tuple[Store, Clients], policy: str | None, ops: list[tuple[Any, ...]]
) -> None:
    store, clients = fuzz_store
    report = run_stream(store, clients, policy, ops)
    assert report.violations == [], f"{policy}\n{ops}"
