"""Reading webhook deliveries from GitHub, GitLab and Jenkins; no HTTP in here.

Each module verifies its caller's credentials and turns a payload into a `Delivery`. They import
nothing from FastAPI, so they can move to `recoverops/connectors/` unchanged.
"""

from .base import Delivery, MalformedPayload, parse_json_object, secret_matches

__all__ = ["Delivery", "MalformedPayload", "parse_json_object", "secret_matches"]
