"""One trace per delivery: the webhook's span, the detector's and the analyzer's, across the
queue (the message carries the span context) and across actor calls (an argument carries it).
Real store, queue and detector loop, in-process; spans caught by the SDK's in-memory exporter."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from recoverops.actors.analyzer import Analyzer
from recoverops.actors.detector import Detector, DetectorConfig
from recoverops.observability import tracing
from recoverops.queue import open_queue
from recoverops.serve import create_app
from recoverops.settings import Settings
from recoverops.store import Store
from tests.actors.conftest import GitHub, failure_body, wait_for


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure_tracing(processor=SimpleSpanProcessor(exporter))
    yield exporter
    tracing.configure_tracing(None)


def named(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [s for s in exporter.get_finished_spans() if s.name == name]
    assert len(found) == 1, f"{name}: {[s.name for s in exporter.get_finished_spans()]}"
    return found[0]


def parent_of(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def span_id(span: ReadableSpan) -> int:
    context = span.get_span_context()
    assert context is not None
    return context.span_id


def trace_of(span: ReadableSpan) -> int:
    context = span.get_span_context()
    assert context is not None
    return context.trace_id


def test_a_delivery_is_one_trace_from_webhook_to_analysis(
    settings: Settings, github: GitHub, spans: InMemorySpanExporter
) -> None:
    settings = settings.model_copy(update={"env": "development"})
    name = f"trace-{uuid.uuid4().hex[:8]}"
    store = Store.open(settings)
    queue = open_queue(settings, store, name=name)
    body = json.dumps(failure_body()).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "workflow_job",
        "X-GitHub-Delivery": str(uuid.uuid4()),
    }
    with TestClient(create_app(settings, store=store, queue=queue)) as client:
        assert client.post("/webhooks/github", content=body, headers=headers).status_code == 202
    detector = Detector(settings, name="traced", config=DetectorConfig(queue=name, idle_wait=0.01))
    try:
        wait_for(
            lambda: [s for s in spans.get_finished_spans() if s.name == "recoverops.detect"],
            what="the detector's span",
        )
    finally:
        detector.stop()
        store.close()

    webhook = named(spans, "recoverops.webhook")
    detect = named(spans, "recoverops.detect")
    analyze = named(spans, "recoverops.analyze")
    assert trace_of(webhook) == trace_of(detect) == trace_of(analyze)
    assert parent_of(detect) == span_id(webhook)  # across the queue
    assert parent_of(analyze) == span_id(detect)
    assert webhook.attributes is not None and webhook.attributes["recoverops.queued"] is True
    assert detect.attributes is not None
    assert detect.attributes["recoverops.event_id"] == webhook.attributes["recoverops.event_id"]


def test_the_analyzer_continues_the_trace_it_is_handed(
    settings: Settings, store: Store, spans: InMemorySpanExporter
) -> None:
    analyzer = Analyzer(settings)
    try:
        with tracing.span("recoverops.detect"):
            handed = tracing.carrier()
        assert set(handed) == {"traceparent"}
        analyzer.analyze(123_456, event_id=1, trace=handed)  # no such incident: nothing to do
    finally:
        analyzer.close()
    detect = named(spans, "recoverops.detect")
    analyze = named(spans, "recoverops.analyze")
    assert parent_of(analyze) == span_id(detect) and trace_of(analyze) == trace_of(detect)


def test_with_tracing_off_nothing_is_carried_and_opentelemetry_is_not_imported(
    tmp_path: Path,
) -> None:
    assert tracing.carrier() == {}
    # (redis imports OpenTelemetry's metrics on its own; this checks what tracing imports.)
    script = (
        "import sys\n"
        "from recoverops.observability import tracing\n"
        "with tracing.span('x') as s:\n"
        "    carried = tracing.carrier()\n"
        "assert s is None and carried == {}\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
        "from recoverops.incidents import Source\n"
        "from recoverops.queue import event_message\n"
        "key, body = event_message(1, Source.GITHUB, 'workflow_job.completed')\n"
        "assert 'trace' not in body, body\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert ran.stdout.strip() == "[]"
