"""The HTTP layer: the FastAPI app (webhooks, read API, analysis, health, metrics).

Imported as `recoverops.serve`; it wraps the core in `recoverops` and holds no domain logic
beyond reading each CI system's webhook payloads (`serve.webhooks`, free of FastAPI).
"""

from .app import DEFAULT_MAX_BODY_BYTES, create_app

__all__ = ["DEFAULT_MAX_BODY_BYTES", "create_app"]
