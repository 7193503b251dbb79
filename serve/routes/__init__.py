"""The app's routes, one module per resource."""

from . import actions, analyze, dead_letters, feedback, health, incidents, me, metrics, webhooks

ROUTERS = (
    webhooks.router,
    incidents.router,
    feedback.router,
    actions.router,
    analyze.router,
    health.router,
    dead_letters.router,
    metrics.router,
    me.router,
)

__all__ = ["ROUTERS"]
