"""Reading webhook deliveries from GitHub, GitLab, Jenkins and AWS (through SNS); no FastAPI in
here (`sns` fetches SNS's signing certificates).

Each module verifies its caller's credentials and turns a payload into a `Delivery`. They import
nothing from FastAPI, so they can move to `recoverops/connectors/` unchanged.
"""

from .base import Delivery, MalformedPayload, parse_json_object, secret_matches

__all__ = ["Delivery", "MalformedPayload", "parse_json_object", "secret_matches"]
