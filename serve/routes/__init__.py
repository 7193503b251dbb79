"""The app's routes, one module per resource."""

from . import actions, analyze, feedback, health, incidents, metrics, webhooks

ROUTERS = (
    webhooks.router,
    incidents.router,
    feedback.router,
    actions.router,
    analyze.router,
    health.router,
    metrics.router,
)

__all__ = ["ROUTERS"]
