"""GET /actions, GET /actions/{id}, POST /actions/{id}/approve|reject, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from recoverops.auth import Role
from recoverops.remediation.clients import Clients
from recoverops.remediation.engine import Engine
from recoverops.remediation.model import ActionRecord, ActionSpec
from recoverops.remediation.policy import parse_policy
from tests.auth_tokens import bearer
from tests.remediation.world import World, kinds_for
from tests.serve.harness import Backend

ASKS = "version: 1\ndefault: approve\napproval_timeout: 10m\n"


def awaiting(backend: Backend, *, created: datetime | None = None, key: str = "k") -> ActionRecord:
    world = World(versions={"web": "v1"})
    kinds = kinds_for(world)
    engine = Engine(
        backend.store,
        policy=parse_policy(ASKS, source="policy.yaml", known_kinds=kinds),
        clients=Clients(backend.settings),
        actor="remediator:test",
        kinds=kinds,
        clock=(lambda: created) if created else lambda: datetime.now(UTC),
    )
    spec = ActionSpec(
        kind="mem.set_version", params={"service": "web", "version": "v2"}, reason="why"
    )
    action, _ = engine.plan(spec, key=key)
    return action


def test_an_operator_approves_and_the_trail_says_who(client: TestClient, backend: Backend) -> None:
    action = awaiting(backend)
    listed = client.get("/actions", params={"status": "awaiting_approval"}).json()["items"]
    assert [a["id"] for a in listed] == [action.id]
    # The body's operator (deprecated) is ignored: the token's subject is who approves.
    answer = client.post(
        f"/actions/{action.id}/approve",
        json={"operator": "mallory", "note": "ok"},
        headers=bearer(Role.OPERATOR, "alice"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["decided_by"]) == ("approved", "operator: alice")
    assert [(e["actor"], e["verb"]) for e in body["trail"]][-1] == ("alice", "action.approved")
    shown = client.get(f"/actions/{action.id}").json()
    assert shown["status"] == "approved" and shown["params"] == {"service": "web", "version": "v2"}
    again = client.post(f"/actions/{action.id}/reject", json={"operator": "bob"})
    assert again.status_code == 409
    assert again.json()["detail"] == f"action {action.id} is approved, not awaiting approval"


def test_a_rejection(client: TestClient, backend: Backend) -> None:
    action = awaiting(backend)
    answer = client.post(f"/actions/{action.id}/reject", json={"operator": "bob", "note": "no"})
    assert answer.status_code == 200 and answer.json()["status"] == "rejected"


def test_an_approval_after_the_deadline_is_refused_and_the_action_expires(
    client: TestClient, backend: Backend
) -> None:
    action = awaiting(backend, created=datetime.now(UTC) - timedelta(minutes=11))
    answer = client.post(f"/actions/{action.id}/approve", json={"operator": "alice"})
    assert answer.status_code == 409 and "its approval came too late" in answer.json()["detail"]
    assert client.get(f"/actions/{action.id}").json()["status"] == "expired"


def test_refusals(sqlite_client: TestClient, sqlite_backend: Backend) -> None:
    action = awaiting(sqlite_backend)
    missing = sqlite_client.post("/actions/999999/approve", json={"operator": "alice"})
    assert missing.status_code == 404 and missing.json()["reason"] == "not_found"
    assert sqlite_client.get("/actions/999999").status_code == 404
    long = sqlite_client.post(f"/actions/{action.id}/approve", json={"operator": "x" * 256})
    assert long.status_code == 422 and long.json()["detail"].startswith("operator:")
    extra = sqlite_client.post(
        f"/actions/{action.id}/approve", json={"operator": "a", "force": True}
    )
    assert extra.status_code == 422 and "force" in extra.json()["detail"]
    garbled = sqlite_client.post(
        f"/actions/{action.id}/approve", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert garbled.status_code == 400
    assert sqlite_client.get("/actions", params={"status": "bogus"}).status_code == 422
    assert sqlite_client.get(f"/actions/{action.id}").json()["status"] == "awaiting_approval"
