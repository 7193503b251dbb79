"""The app's routes, one module per resource."""

from . import analyze, health, incidents, metrics, webhooks

ROUTERS = (webhooks.router, incidents.router, analyze.router, health.router, metrics.router)

__all__ = ["ROUTERS"]
