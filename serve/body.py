"""Reading a request body: its media type checked first, its size bounded as it streams in."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from .errors import CONTENT_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, Rejection, malformed
from .services import Services

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
TEXT = "text/plain"


@dataclass(frozen=True, slots=True)
class Body:
    media_type: str  # lower case, without parameters: "application/json"
    raw: bytes


def media_type(content_type: str | None) -> str | None:
    """`application/json; charset=utf-8` → `application/json`."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


class BodyReader:
    """A dependency reading the body of a request whose media type is one of `accepted`.

    415 for another media type, before anything is read; 413 when Content-Length announces more
    than the app's limit, or when more arrives than the limit (a chunked body, or a wrong length).
    """

    def __init__(self, *accepted: str) -> None:
        self.accepted = accepted

    async def __call__(self, request: Request) -> Body:
        services: Services = request.app.state.services
        limit = services.max_body_bytes
        kind = media_type(request.headers.get("content-type"))
        if kind not in self.accepted:
            raise Rejection(
                UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                f"Content-Type must be {' or '.join(self.accepted)}, not {kind or 'missing'}",
            )
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise malformed(f"Content-Length is not a number: {declared!r:.40}")
            if int(declared) > limit:
                raise _too_large(limit, f"{int(declared):,} bytes announced")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit, "more received")
            chunks.append(chunk)
        return Body(media_type=kind, raw=b"".join(chunks))


def _too_large(limit: int, what: str) -> Rejection:
    return Rejection(CONTENT_TOO_LARGE, "too_large", f"body over the {limit:,}-byte limit ({what})")
