"""The LLM in the running system: the detector's diagnosis of a queued failure asks it, with the
similar past incidents the analyzer's history finds; the incident stores its answer; the same
failure again on the same job costs no request. No Ray: the detector runs in-process, against
a fake GitHub serving a real failing log and a scripted LLM server."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from recoverops.actors.detector import Detector, DetectorConfig
from recoverops.queue import open_queue
from recoverops.store import Store
from tests.actors.conftest import (
    enqueue,
    failure_body,
    github_server,
    settings_for,
    store_failure,
    wait_for,
)
from tests.llm.scripted_server import completion, scripted

ANSWER = {"explanation": "The runner could not resolve the download host.", "fix": None}


def root_cause_of(store: Store, event_id: int) -> dict[str, Any] | None:
    event = store.get_event(event_id)
    if event is None or event.incident_id is None:
        return None
    incident = store.get_incident(event.incident_id)
    analysis = None if incident is None else incident.analysis
    root_cause: dict[str, Any] | None = None if analysis is None else analysis.get("root_cause")
    return root_cause if root_cause and "llm" in root_cause else None


def processed(store: Store, event_id: int) -> bool:
    event = store.get_event(event_id)
    return event is not None and event.processed_at is not None


def test_the_detector_asks_the_llm_once_per_failure_and_job(tmp_path: Path) -> None:
    answer = json.dumps({**ANSWER, "confidence": 0.4})
    with github_server() as github, scripted(completion(answer)) as llm:
        settings = settings_for(tmp_path / "home", github).model_copy(
            update={"llm_base_url": llm.url, "llm_timeout_s": 10.0}
        )
        store = Store.open(settings)
        name = f"llm-{uuid.uuid4().hex[:8]}"
        queue = open_queue(settings, store, name=name, lease=timedelta(seconds=30))
        detector = Detector(settings, name="llm", config=DetectorConfig(queue=name, idle_wait=0.01))
        try:
            first = store_failure(store, failure_body())
            enqueue(queue, first)
            cause = wait_for(lambda: root_cause_of(store, first), what="the first diagnosis")
            assert len(llm.requests) == 1

            # The same failure on another job: asked again, shown the first as a past incident.
            other = store_failure(store, github.new_job())
            enqueue(queue, other)
            wait_for(lambda: root_cause_of(store, other), what="the other job's diagnosis")
            assert len(llm.requests) == 2
            prompt = json.loads(llm.requests[1]["messages"][1]["content"])
            [past] = prompt["similar_past_incidents"]
            assert past["target"] == "github:Codertocat/Hello-World:CodeQL/linters"
            assert past["occurrences"] == 1

            # The first job fails the same way again: answered from the store's cache.
            again = store_failure(store, failure_body())
            enqueue(queue, again)
            wait_for(lambda: processed(store, again), what="the recurrence")
        finally:
            detector.stop()
        assert len(llm.requests) == 2
        store.close()
    assert cause["llm"]["used"] is True and cause["llm"]["cached"] is False
    assert cause["explanation"] == ANSWER["explanation"]
