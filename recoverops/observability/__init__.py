"""What RecoverOps tells the people running it: structured logs and traces.

    logs.py     `configure_logging` (text or JSON lines) and `log_context`, the incident, event
                and action ids every log line of a unit of work carries
    tracing.py  OpenTelemetry spans across webhook → detector → analyzer → remediator, exported
                over OTLP when an endpoint is configured, and a no-op otherwise

Prometheus metrics are the API's own (`recoverops.serve.metrics`).
"""

from .logs import configure_logging, log_context
from .tracing import carrier, configure_tracing, span

__all__ = ["carrier", "configure_logging", "configure_tracing", "log_context", "span"]
