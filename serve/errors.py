"""Refusals: the one place where an HTTP status is chosen for something RecoverOps refuses.

A route raises `Rejection(status, reason, detail)`; the handler answers
`{"detail": ..., "reason": ...}` with the status and counts the refusal by its reason.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from recoverops.errors import InvalidCursorError, RecoverOpsError

from .metrics import Metrics, route_label
from .webhooks import MalformedPayload

BAD_REQUEST = 400
UNAUTHORIZED = 401
FORBIDDEN = 403
NOT_FOUND = 404
CONTENT_TOO_LARGE = 413
UNSUPPORTED_MEDIA_TYPE = 415
UNPROCESSABLE = 422
TOO_MANY_REQUESTS = 429
BAD_GATEWAY = 502
SERVICE_UNAVAILABLE = 503


class Rejection(RecoverOpsError):
    """A request refused: `reason` is a short fixed code (a metrics label), `detail` the why."""

    def __init__(
        self, status: int, reason: str, detail: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.headers = headers


def malformed(detail: str) -> Rejection:
    return Rejection(BAD_REQUEST, "malformed", detail)


def install_handlers(app: FastAPI, metrics: Metrics) -> None:
    async def rejected(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Rejection)
        metrics.rejected.labels(route=route_label(request.scope), reason=error.reason).inc()
        return JSONResponse(
            {"detail": error.detail, "reason": error.reason},
            status_code=error.status,
            headers=error.headers,
        )

    async def unreadable(request: Request, error: Exception) -> JSONResponse:
        return await rejected(request, malformed(str(error)))

    app.add_exception_handler(Rejection, rejected)
    # A payload a webhook reader cannot read, a cursor the store did not hand out: 400.
    app.add_exception_handler(MalformedPayload, unreadable)
    app.add_exception_handler(InvalidCursorError, unreadable)
