"""Traces across the pipeline: one trace per delivery, from the webhook to the remediator.

    webhook (API) ──queue message──► detect (detector) ──Ray call──► analyze (analyzer)
                                                       └─Ray call──► plan (remediator)

Each hop crosses a process, so the span context travels as a W3C `traceparent` carrier: in the
queue message's body (`carrier()` at ingestion) and as an argument of the actor calls.

Tracing is off unless `configure_tracing` is given an OTLP endpoint
(`RECOVEROPS_TRACING_ENDPOINT`) or a span processor (the tests' in-memory exporter). While off,
this module imports nothing of OpenTelemetry: `span` yields None and `carrier` is empty, so
`recoverops analyze` stays small and fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.trace import Span, Tracer

SERVICE_NAME = "recoverops"
_tracer: Tracer | None = None


def configure_tracing(
    endpoint: str | None = None, *, processor: SpanProcessor | None = None
) -> bool:
    """Turn tracing on, exporting over OTLP/HTTP to `endpoint` or through `processor`; with
    neither, turn it off. True when on."""
    global _tracer
    if endpoint is None and processor is None:
        _tracer = None
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    if processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))
    provider.add_span_processor(processor)
    # A provider of our own rather than the global one: Ray and MLflow set theirs up too.
    _tracer = provider.get_tracer("recoverops")
    return True


def enabled() -> bool:
    return _tracer is not None


@contextmanager
def span(
    name: str,
    *,
    parent: Mapping[str, Any] | None = None,
    attributes: Mapping[str, str | int | float | bool | None] | None = None,
) -> Iterator[Span | None]:
    """A span named `name`, the child of `parent` (a carrier from another process) when given,
    else of the current span. Exceptions are recorded on it and re-raised."""
    if _tracer is None:
        yield None
        return
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    context = None
    if parent:
        context = TraceContextTextMapPropagator().extract(
            {k: str(v) for k, v in parent.items() if isinstance(v, str)}
        )
    kept = {k: v for k, v in (attributes or {}).items() if v is not None}
    with _tracer.start_as_current_span(name, context=context, attributes=kept) as current:
        yield current


def carrier() -> dict[str, str]:
    """The current span's context to hand to another process (empty when tracing is off)."""
    if _tracer is None:
        return {}
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    found: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(found)
    return found


def trace_id_of(current: Span | None) -> str | None:
    """The span's trace id as the 32 hex digits trace viewers show (for log lines)."""
    if current is None:
        return None
    return format(current.get_span_context().trace_id, "032x")
