"""The app's routes, one module per resource."""

from . import analyze, feedback, health, incidents, metrics, webhooks

ROUTERS = (
    webhooks.router,
    incidents.router,
    feedback.router,
    analyze.router,
    health.router,
    metrics.router,
)

__all__ = ["ROUTERS"]
