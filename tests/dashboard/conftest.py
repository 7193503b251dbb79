"""The dashboard's tests run the real API: the FastAPI app under uvicorn, over a SQLite store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.incidents import Event, IncidentStatus, Source
from recoverops.queue import OutboxQueue
from recoverops.serve import create_app
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.serve.harness import CASES, with_secrets

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
READY_WITHIN = 10.0


@dataclass(frozen=True)
class Seeded:
    id: int
    category: Category
    evidence: list[str]


@dataclass
class LiveApi:
    """The API listening on `url`, and the store it reads (to seed incidents into)."""

    url: str
    store: Store

    def seed(
        self, case: str, number: int = 0, *, refine: Callable[[Analysis], Analysis] | None = None
    ) -> Seeded:
        """An analyzed incident from the real log of fixture case `case` (its analysis passed
        through `refine`, a learned model's, when given)."""
        log = (CASES / case / "log.txt").read_bytes().decode("utf-8", errors="replace")
        analysis = analyze_text(log)
        if refine is not None:
            analysis = refine(analysis)
        seen = START + timedelta(minutes=number)
        event_id = self.store.add_event(
            Event(Source.GITHUB, "workflow_job.completed", f"{case}-{number}", seen, "inline")
        ).event_id
        upsert = self.store.upsert_incident(
            f"fp-{case}-{number}",
            target=f"octo/repo:ci/{case}",
            category=analysis.category,
            source=Source.GITHUB,
            seen_at=seen,
            event_id=event_id,
            analysis=analysis,
        )
        self.store.move_incident(upsert.incident.id, IncidentStatus.ANALYZED, detail="analyzed")
        return Seeded(
            id=upsert.incident.id,
            category=analysis.category,
            evidence=[line.text for line in analysis.evidence],
        )

    def seed_bare(self, number: int) -> int:
        """An incident with no analysis: cheap, for filling pages."""
        upsert = self.store.upsert_incident(
            f"fp-bare-{number}",
            target=f"octo/repo:ci/job-{number}",
            category=Category.BUILD_TEST,
            source=Source.GITLAB,
            seen_at=START - timedelta(days=1, minutes=number),
        )
        return upsert.incident.id


@pytest.fixture
def live_api(tmp_path: Path) -> Iterator[LiveApi]:
    # The dashboard reads the API without a token yet: sign-in off, as on a development machine.
    settings = with_secrets(
        Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    ).model_copy(update={"env": "development", "auth_secret": None})
    store = Store.open(settings)
    app = create_app(settings, store=store, queue=OutboxQueue(store, name="events"))
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        _wait_until_healthy(url, thread)
        yield LiveApi(url=url, store=store)
    finally:
        server.should_exit = True
        thread.join(timeout=READY_WITHIN)
        listening.close()
        store.close()


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A local URL nothing listens on (the port held, so nothing starts listening meanwhile)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


def _wait_until_healthy(url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if not thread.is_alive():
            pytest.fail("the API server stopped while starting", pytrace=False)
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        thread.join(timeout=0.02)  # wait for the server to come up (or die) a little
    pytest.fail(f"the API at {url} was not healthy within {READY_WITHIN} s", pytrace=False)
