"""Who may call what: the one table of the role each route needs, and the check that applies it.

Every route of the app runs `authorize` (an app-wide dependency): it finds the route's rule in
`RULES`, checks the bearer token, and refuses with 401 (no token, or one that cannot be trusted)
or 403 (a role below the rule's); every refusal is written to the audit log. A route with no
rule is refused to everyone, and tests/serve/test_access_matrix.py fails until it has one.

Adding a route? Add its line here, "METHOD /path/{param}" exactly as the route declares it:

    "POST /incidents/{incident_id}/fixes/{n}/pull-request": Role.OPERATOR,

(A route's handler that wants to know who asks takes `principal: PrincipalDep`.)

Roles are ordered (viewer < operator < admin): a rule names the lowest role allowed.
`PUBLIC` routes take no token: the webhooks, which check their own signatures, /healthz, and
the API's documentation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Final, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import Mount, Route

from recoverops.auth import Principal, Role
from recoverops.errors import AuthenticationError

from .deps import ServicesDep
from .errors import FORBIDDEN, SERVICE_UNAVAILABLE, UNAUTHORIZED, Rejection
from .services import Services

log = logging.getLogger(__name__)

PUBLIC: Final = "public"
Rule = Role | Literal["public"]

RULES: Mapping[str, Rule] = {
    # Reading
    "GET /incidents": Role.VIEWER,
    "GET /incidents/{incident_id}": Role.VIEWER,
    "GET /actions": Role.VIEWER,
    "GET /actions/{action_id}": Role.VIEWER,
    "GET /dead-letters": Role.VIEWER,
    "GET /metrics": Role.VIEWER,
    "GET /me": Role.VIEWER,
    # Analyzing a log changes nothing: a read.
    "POST /analyze": Role.VIEWER,
    # The operators' word
    "POST /incidents/{incident_id}/feedback": Role.OPERATOR,
    "POST /actions/{action_id}/approve": Role.OPERATOR,
    "POST /actions/{action_id}/reject": Role.OPERATOR,
    "POST /incidents/{incident_id}/fixes/{n}/pull-request": Role.OPERATOR,
    # No token: signed by their senders, or harmless
    "POST /webhooks/*": PUBLIC,
    "GET /healthz": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /redoc": PUBLIC,
    "GET /openapi.json": PUBLIC,
    "GET /docs-assets/*": PUBLIC,
}

DENIED = "access.denied"  # the audit log's verb for a refusal
ANONYMOUS = "anonymous"  # the actor of a refusal when no token said who asked


def rule_for(method: str, path: str) -> Rule | None:
    """The rule for `method` on the route template `path`; a `/*` rule covers what is under
    its folder. None: the route has no rule."""
    exact = RULES.get(f"{method} {path}")
    if exact is not None:
        return exact
    for key, rule in RULES.items():
        rule_method, _, pattern = key.partition(" ")
        if rule_method == method and pattern.endswith("/*"):
            if path.startswith(pattern[:-1]):
                return rule
    return None


def route_keys(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of everything the app answers, the included routers' routes
    too; a mounted app (the docs' assets) as GET under its path."""
    return [(method, path) for method, path, _ in _answered(app)]


def unruled(app: FastAPI) -> list[str]:
    """The app's routes that have no rule, or that bypass `authorize` without being public."""
    missing = []
    for method, path, checked in _answered(app):
        rule = rule_for(method, path)
        if rule is None or (not checked and rule != PUBLIC):
            missing.append(f"{method} {path}")
    return missing


def _answered(app: FastAPI) -> Iterator[tuple[str, str, bool]]:
    """(method, path, whether `authorize` runs on it): only FastAPI's own routes run the app's
    dependencies, not a plain Starlette route or a mounted app."""
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path
        if path is None:
            continue
        if isinstance(route, Mount):
            yield "GET", f"{path}/*", False
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":  # Starlette adds it to every GET route
                    yield method, path, isinstance(route, APIRoute)


def authorize(request: Request, services: ServicesDep) -> Principal:
    """The principal the request acts as, once its route's rule allows it; Rejection else."""
    method = request.method
    route = getattr(request.scope.get("route"), "path", request.url.path)
    rule = rule_for(method, route)
    if rule == PUBLIC:
        return Principal(subject=ANONYMOUS, role=None)
    try:
        principal = services.auth.authenticate(request.headers.get("authorization"))
    except AuthenticationError as error:
        status = _STATUS_OF_REASON.get(error.reason, UNAUTHORIZED)
        headers = {"WWW-Authenticate": _challenge(error)} if status == UNAUTHORIZED else None
        denied = _denied(services, request, ANONYMOUS, status, error.reason, str(error), headers)
        raise denied from None
    who = principal.subject
    if rule is None:
        log.error("%s %s has no rule in serve/access.py: refused to everyone", method, route)
        raise _denied(
            services, request, who, FORBIDDEN, "no_access_rule", f"{method} {route} has no rule"
        )
    if principal.role is None:
        raise _denied(services, request, who, FORBIDDEN, "no_role", f"{who} has no RecoverOps role")
    if not principal.role.allows(rule):
        raise _denied(
            services,
            request,
            who,
            FORBIDDEN,
            "insufficient_role",
            f"{method} {route} needs the {rule.value} role; {who} is {principal.role.value}",
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(authorize)]

# Not the client's fault: the issuer's keys cannot be fetched, or the server has no way to
# check any token (production with no auth configured, like a webhook with no secret).
_STATUS_OF_REASON = {"keys_unavailable": SERVICE_UNAVAILABLE, "auth_not_configured": FORBIDDEN}


def _challenge(error: AuthenticationError) -> str:
    """RFC 6750 §3: a request with no token gets no error code."""
    if error.reason == "missing_token":
        return 'Bearer realm="recoverops"'
    return 'Bearer realm="recoverops", error="invalid_token"'


def _denied(
    services: Services,
    request: Request,
    who: str,
    status: int,
    reason: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> Rejection:
    """The refusal, written to the audit log first (a store that is down does not turn a
    refusal into a 500: the refusal stands, and the failure to record it is logged)."""
    route = getattr(request.scope.get("route"), "path", request.url.path)
    entry: dict[str, Any] = {
        "method": request.method,
        "route": route,
        "path": request.url.path,
        "status": status,
        "reason": reason,
        "detail": detail,
    }
    try:
        services.store.audit(who, DENIED, subject=f"route:{request.method} {route}", detail=entry)
    except SQLAlchemyError:
        log.exception("cannot audit the refusal of %s %s to %s", request.method, route, who)
    return Rejection(status, reason, detail, headers=headers)


BEARER_SCHEME = "bearer"


def document_rules(app: FastAPI) -> None:
    """OpenAPI says which routes need a token and which role: /docs then has its Authorize
    button, and each operation names its role."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})[BEARER_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
        }
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                rule = rule_for(method.upper(), path)
                if isinstance(rule, Role):
                    operation["security"] = [{BEARER_SCHEME: []}]
                    needs = f"Needs a bearer token with the `{rule.value}` role or higher."
                    described = operation.get("description")
                    operation["description"] = f"{described}\n\n{needs}" if described else needs
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
