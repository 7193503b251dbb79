"""The dashboard's tests run the real API: the FastAPI app under uvicorn, over a SQLite store."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from streamlit.testing.v1 import AppTest

from recoverops.actors.analyzer import analyze_incident
from recoverops.analysis import Analysis
from recoverops.auth import Role
from recoverops.detector import analyze_text
from recoverops.incidents import Event, IncidentStatus, Source, fingerprint
from recoverops.logs.templates import mask, template_id
from recoverops.queue import OutboxQueue
from recoverops.remediation.clients import Clients
from recoverops.remediation.engine import Engine
from recoverops.remediation.model import ActionRecord, ActionSpec
from recoverops.remediation.policy import parse_policy
from recoverops.serve import create_app
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.auth_tokens import token, with_auth
from tests.remediation.world import World, kinds_for
from tests.serve.harness import CASES, with_secrets

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
# Streamlit runs the dashboard with its folder on sys.path (its modules import each other as
# `client`, `analytics`): the tests import its pure modules the same way.
if str(APP.parent) not in sys.path:
    sys.path.insert(0, str(APP.parent))
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
READY_WITHIN = 10.0
# Every action the tests plan asks an operator first.
ASKS = "version: 1\ndefault: approve\napproval_timeout: 1h\n"
# Tokens the API makes (`recoverops token create`), for a viewer and an operator.
VIEWER_TOKEN = token(Role.VIEWER, "victor")
OPERATOR_TOKEN = token(Role.OPERATOR, "olga")


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
    settings: Settings
    world: World = field(default_factory=lambda: World(versions={"web": "v1"}))

    def engine(self) -> Engine:
        """A remediator's engine over the API's store, on an in-memory world of versions."""
        kinds = kinds_for(self.world)
        return Engine(
            self.store,
            policy=parse_policy(ASKS, source="policy.yaml", known_kinds=kinds),
            clients=Clients(self.settings),
            actor="remediator:test",
            kinds=kinds,
        )

    def plan(self, incident_id: int | None, *, version: str = "v2", key: str = "k") -> ActionRecord:
        """An action awaiting approval: set the `web` service to `version`."""
        spec = ActionSpec(
            kind="mem.set_version",
            params={"service": "web", "version": version},
            reason="roll web forward",
            incident_id=incident_id,
        )
        action, _ = self.engine().plan(spec, key=key)
        return action

    def resolve(self, incident_id: int) -> None:
        self.store.move_incident(incident_id, IncidentStatus.REMEDIATING, detail="remediating")
        self.store.move_incident(incident_id, IncidentStatus.RESOLVED, detail="resolved")

    def seed(
        self,
        case: str,
        number: int = 0,
        *,
        refine: Callable[[Analysis], Analysis] | None = None,
        target: str | None = None,
        source: Source = Source.GITHUB,
    ) -> Seeded:
        """An analyzed incident from the real log of fixture case `case` (its analysis passed
        through `refine`, a learned model's, when given). Given a `target`, the incident gets
        the detector's own fingerprint and goes through the analyzer's stage, which compares it
        with the same failure on other targets."""
        log = (CASES / case / "log.txt").read_bytes().decode("utf-8", errors="replace")
        analysis = analyze_text(log)
        if refine is not None:
            analysis = refine(analysis)
        seen = START + timedelta(minutes=number)
        event_id = self.store.add_event(
            Event(source, "workflow_job.completed", f"{case}-{number}", seen, "inline")
        ).event_id
        templates = frozenset(template_id(mask(line.text)) for line in analysis.evidence)
        upsert = self.store.upsert_incident(
            f"fp-{case}-{number}"
            if target is None
            else fingerprint(target=target, template_ids=templates),
            target=target or f"octo/repo:ci/{case}",
            category=analysis.category,
            source=source,
            seen_at=seen,
            event_id=event_id,
            analysis=analysis,
        )
        if target is None:
            self.store.move_incident(upsert.incident.id, IncidentStatus.ANALYZED, detail="analyzed")
        else:
            analyze_incident(self.store, upsert.incident.id, event_id=event_id)
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
    yield from _serve(tmp_path, signed_in=False)


@pytest.fixture
def signed_in_api(tmp_path: Path) -> Iterator[LiveApi]:
    """The API with its sign-in on: it accepts `VIEWER_TOKEN` and `OPERATOR_TOKEN`."""
    yield from _serve(tmp_path, signed_in=True)


def _serve(tmp_path: Path, *, signed_in: bool) -> Iterator[LiveApi]:
    # Development, so that with no signing secret the API's sign-in is off; with one, it is on.
    settings = with_secrets(
        Settings(home=tmp_path / "home", database_url=None, redis_url=None, env="development")
    )
    settings = (
        with_auth(settings) if signed_in else settings.model_copy(update={"auth_secret": None})
    )
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
        yield LiveApi(url=url, store=store, settings=settings)
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


# One run of a page makes a handful of local HTTP calls; a generous bound for slow CI.
RUN_TIMEOUT = 30.0

Opener = Callable[..., AppTest]


@pytest.fixture
def open_page(monkeypatch: pytest.MonkeyPatch) -> Opener:
    """Opens the dashboard at `page` (a path under dashboard/, None: the default page) with its
    API set where `recoverops up` sets it, the settings, and with `token` as
    RECOVEROPS_DASHBOARD_TOKEN."""

    def opened(api_url: str, page: str | None = None, *, token: str | None = None) -> AppTest:
        monkeypatch.setenv("RECOVEROPS_DASHBOARD_API_URL", api_url)
        if token is None:
            monkeypatch.delenv("RECOVEROPS_DASHBOARD_TOKEN", raising=False)
        else:
            monkeypatch.setenv("RECOVEROPS_DASHBOARD_TOKEN", token)
        at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
        if page is not None:
            at.switch_page(page).run()
        return at

    return opened


def table(at: AppTest, index: int, column: str) -> list[object]:
    """A column of the page's `index`th table."""
    return list(at.dataframe[index].value[column])
