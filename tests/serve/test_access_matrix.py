"""The RBAC matrix, generated from the app's routes: every route, every role, and no token.

A route added without a line in serve/access.py's RULES fails
`test_every_route_has_a_rule`, and is refused to everyone until it has one.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from recoverops.auth import Role
from recoverops.serve import create_app
from recoverops.serve.access import DENIED, PUBLIC, route_keys, rule_for, unruled
from tests.auth_tokens import bearer
from tests.serve.harness import Backend, Response

# What the authorization check answers with; a handler's own refusal (a webhook's missing
# signature, a 404) has another reason.
AUTH_REASONS = {"missing_token", "insufficient_role", "no_role", "no_access_rule"}
SAMPLE_UNDER = {"/docs-assets/*": "/docs-assets/swagger-ui.css", "/webhooks/*": "/webhooks/x"}


def concrete(path: str) -> str:
    """A path the route template matches: 1 for every parameter."""
    return SAMPLE_UNDER.get(path) or re.sub(r"\{[^}]+\}", "1", path)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Response:
    if method == "GET":
        return client.get(concrete(path), headers=headers)
    # A body the route may refuse (400, 404, 422): what matters is whether it got that far.
    body = b"x" if path == "/analyze" else b"{}"
    kind = "text/plain" if path == "/analyze" else "application/json"
    return client.request(
        method, concrete(path), content=body, headers={"Content-Type": kind, **headers}
    )


def every_route(app: FastAPI) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = route_keys(app)
    return keys


def test_every_route_has_a_rule(sqlite_backend: Backend) -> None:
    app = create_app(sqlite_backend.settings, store=sqlite_backend.store)
    assert len(every_route(app)) >= 17
    assert unruled(app) == [], "add each route's line to RULES in serve/access.py"


def test_every_route_for_every_role_and_without_a_token(sqlite_backend: Backend) -> None:
    app = create_app(
        sqlite_backend.settings, store=sqlite_backend.store, queue=sqlite_backend.queue
    )
    wrong: list[str] = []
    with TestClient(app) as client:
        for method, path in every_route(app):
            rule = rule_for(method, path)
            anonymous = call(client, method, path, {})
            if rule == PUBLIC:
                if anonymous.status_code in (401, 403) and _reason(anonymous) in AUTH_REASONS:
                    wrong.append(f"{method} {path} is public but refused {anonymous.text}")
                continue
            assert isinstance(rule, Role), f"{method} {path} has no rule"
            if (anonymous.status_code, _reason(anonymous)) != (401, "missing_token"):
                wrong.append(f"{method} {path} without a token: {anonymous.status_code}")
            for role in Role:
                answer = call(client, method, path, bearer(role, f"a-{role.value}"))
                refused = answer.status_code in (401, 403) and _reason(answer) in AUTH_REASONS
                if role.allows(rule) and refused:
                    wrong.append(f"{method} {path} refused {role}: {answer.text}")
                if not role.allows(rule) and (answer.status_code, _reason(answer)) != (
                    403,
                    "insufficient_role",
                ):
                    wrong.append(f"{method} {path} let {role} in: {answer.status_code}")
    assert wrong == []


def test_the_roles_are_ordered_as_the_issue_says() -> None:
    assert rule_for("GET", "/incidents") is Role.VIEWER
    assert rule_for("POST", "/actions/{action_id}/approve") is Role.OPERATOR
    assert rule_for("POST", "/incidents/{incident_id}/feedback") is Role.OPERATOR
    assert rule_for("POST", "/incidents/{incident_id}/fixes/{n}/pull-request") is Role.OPERATOR
    assert rule_for("POST", "/webhooks/aws") == PUBLIC  # every webhook, present and future
    assert rule_for("GET", "/healthz") == PUBLIC
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)


def test_a_route_added_without_a_rule_is_detected_and_refused_to_everyone(
    sqlite_backend: Backend,
) -> None:
    app: FastAPI = create_app(sqlite_backend.settings, store=sqlite_backend.store)

    @app.post("/incidents/{incident_id}/escalations/{n}")
    def escalate(incident_id: int, n: int) -> dict[str, int]:
        return {"incident_id": incident_id, "n": n}

    # A plain Starlette route runs no dependency: it is flagged unless its rule is PUBLIC.
    app.router.routes.append(Route("/raw", lambda _: PlainTextResponse("open"), methods=["GET"]))

    assert unruled(app) == [
        "POST /incidents/{incident_id}/escalations/{n}",
        "GET /raw",
    ]
    with TestClient(app) as client:
        answer = client.post("/incidents/1/escalations/2", headers=bearer(Role.ADMIN))
    assert answer.status_code == 403
    assert answer.json() == {
        "detail": "POST /incidents/{incident_id}/escalations/{n} has no rule",
        "reason": "no_access_rule",
    }


def test_every_denial_is_audited_with_who_what_why_and_when(sqlite_backend: Backend) -> None:
    store = sqlite_backend.store
    with sqlite_backend.client(headers={}) as client:
        anonymous = client.get("/incidents/7")
        expired = client.get("/actions", headers={"Authorization": "Bearer not.a.jwt"})
        viewer = client.post(
            "/actions/3/approve", json={"note": "x"}, headers=bearer(Role.VIEWER, "vera")
        )
        allowed = client.get("/incidents", headers=bearer(Role.VIEWER, "vera"))
    assert (anonymous.status_code, expired.status_code, viewer.status_code) == (401, 401, 403)
    assert allowed.status_code == 200

    entries = store.audit_entries(verb=DENIED)
    assert [(e.actor, e.subject, e.detail["reason"]) for e in reversed(entries)] == [
        ("anonymous", "route:GET /incidents/{incident_id}", "missing_token"),
        ("anonymous", "route:GET /actions", "malformed_token"),
        ("vera", "route:POST /actions/{action_id}/approve", "insufficient_role"),
    ]
    newest = entries[0]
    assert newest.detail == {
        "method": "POST",
        "route": "/actions/{action_id}/approve",
        "path": "/actions/3/approve",
        "status": 403,
        "reason": "insufficient_role",
        "detail": "POST /actions/{action_id}/approve needs the operator role; vera is viewer",
    }
    assert newest.at is not None and newest.at >= entries[1].at


def test_a_refusal_says_why_in_one_line_with_a_bearer_challenge(sqlite_backend: Backend) -> None:
    with sqlite_backend.client(headers={}) as client:
        missing = client.get("/me")
        garbled = client.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert missing.json() == {
        "detail": "no bearer token: send Authorization: Bearer …",
        "reason": "missing_token",
    }
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="recoverops"'
    assert garbled.status_code == 401
    assert garbled.json()["detail"] == "the Authorization header is not `Bearer <token>`"


def test_me_says_who_the_token_says(sqlite_backend: Backend) -> None:
    with sqlite_backend.client(headers=bearer(Role.OPERATOR, "olga")) as client:
        assert client.get("/me").json() == {"subject": "olga", "role": "operator", "auth": "jwt"}


def test_in_development_with_nothing_configured_everyone_is_the_admin(
    sqlite_backend: Backend,
) -> None:
    settings = sqlite_backend.settings.model_copy(
        update={"env": "development", "auth_secret": None}
    )
    with TestClient(create_app(settings, store=sqlite_backend.store)) as client:
        me = client.get("/me")
        approve = client.post("/actions/1/approve", json={})
    assert me.json() == {"subject": "development", "role": "admin", "auth": "disabled"}
    assert approve.status_code == 404  # past the check: there is no action 1


def test_outside_development_with_nothing_configured_only_the_public_routes_answer(
    sqlite_backend: Backend,
) -> None:
    settings = sqlite_backend.settings.model_copy(update={"auth_secret": None})
    with TestClient(create_app(settings, store=sqlite_backend.store)) as client:
        refused = client.get("/incidents", headers=bearer(Role.ADMIN))
        health = client.get("/healthz")
    assert refused.status_code == 403 and refused.json()["reason"] == "auth_not_configured"
    assert health.status_code == 200


def _reason(response: Response) -> str | None:
    try:
        reason = response.json().get("reason")
    except (ValueError, AttributeError):
        return None
    return reason if isinstance(reason, str) else None


def test_openapi_names_the_bearer_scheme_and_each_operations_role(sqlite_backend: Backend) -> None:
    with sqlite_backend.client(headers={}) as client:
        schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    approve = schema["paths"]["/actions/{action_id}/approve"]["post"]
    assert approve["security"] == [{"bearer": []}]
    assert approve["description"].endswith("with the `operator` role or higher.")
    assert "security" not in schema["paths"]["/webhooks/github"]["post"]
    assert "security" not in schema["paths"]["/healthz"]["get"]
