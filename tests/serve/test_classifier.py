"""The classifier on real Ray Serve: batched answers from the registered champion, a promotion
swapped in under load without a failed request, and the rules alone when there is no model.

One local Ray and Serve, one MLflow store and one logged model for the module; each test
registers that model under its own name and deploys its own application, so the tests do not
depend on each other's versions.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import ray
from fastapi.testclient import TestClient
from ray import serve
from ray.serve.handle import DeploymentHandle

from recoverops.actors import Detector, DetectorConfig
from recoverops.auth import Role
from recoverops.detector import analyze_text
from recoverops.models.features import FEATURE_COLUMNS
from recoverops.serve import create_app
from recoverops.serve.classifier import NO_MODEL, Served, classifier_application
from recoverops.serve.classifier_client import ClassifierClient
from recoverops.settings import Settings
from recoverops.store import Store
from tests.auth_tokens import bearer, with_auth
from tests.champion import corpus_frame, log_model, register

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases"
FLAKE8 = (CASES / "plain-flake8" / "log.txt").read_text("utf-8")
POLL_S = 0.1


@pytest.fixture(scope="module")
def serve_instance() -> Iterator[None]:
    """Ray (unless another module's session already started it) and Serve, handles only."""
    previous = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    serve.start(proxy_location="Disabled")
    yield
    shutdown: Callable[[], None] = serve.shutdown  # untyped in Ray's annotations
    shutdown()
    if started:
        ray.shutdown()
    if previous is None:
        os.environ.pop("RAY_AUTH_MODE", None)
    else:
        os.environ["RAY_AUTH_MODE"] = previous


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def frame(home: Path) -> pd.DataFrame:
    return corpus_frame(home / "corpus")


@pytest.fixture(scope="module")
def logged(home: Path, frame: pd.DataFrame) -> str:
    """One fitted model, logged once; registered as each test's versions."""
    return log_model(Settings(home=home), frame)


@pytest.fixture
def settings(home: Path, request: pytest.FixtureRequest) -> Settings:
    """The module's store, and a registered model name of this test's own."""
    return Settings(home=home, model_name=f"model-{request.node.name[:40]}")


@dataclass(frozen=True)
class App:
    handle: DeploymentHandle[Any]
    settings: Settings
    version: str
    name: str = "classifier-champion"


@pytest.fixture(scope="module")
def champion(serve_instance: None, home: Path, logged: str) -> Iterator[App]:
    """A deployment serving a registered champion; tests only read from it."""
    settings = Settings(home=home, model_name="model-champion")
    version = register(settings, logged)
    app = App(
        deploy(settings, "classifier-champion", max_batch_size=8, batch_wait_timeout_s=0.05),
        settings,
        version,
    )
    yield app
    serve.delete(app.name)


def deploy(settings: Settings, name: str, **config: Any) -> DeploymentHandle[Any]:
    handle: DeploymentHandle[Any] = serve.run(
        classifier_application(settings, config={"poll_s": POLL_S, **config}),
        name=name,
        route_prefix=None,
    )
    return handle


def rows_of(frame: pd.DataFrame, n: int) -> list[dict[str, Any]]:
    records = [
        {str(k): v for k, v in r.items()} for r in frame[list(FEATURE_COLUMNS)].to_dict("records")
    ]
    return [records[i % len(records)] for i in range(n)]


async def gather(handle: DeploymentHandle[Any], rows: list[dict[str, Any]]) -> list[Served]:
    responses = [handle.predict.remote(row) for row in rows]
    return [await r for r in responses]


def test_the_champion_answers_in_batches_with_its_version(
    champion: App, frame: pd.DataFrame
) -> None:
    handle, model = champion.handle, f"{champion.settings.model_name}/{champion.version}"
    assert handle.status.remote().result()["model"] == model
    rows = rows_of(frame, 24)
    answers = asyncio.run(gather(handle, rows))
    assert all(a.model == model for a in answers)
    assert all(a.prediction is not None and a.error is None for a in answers)
    assert max(a.batch_size for a in answers) > 1  # concurrent calls were batched
    assert max(a.batch_size for a in answers) <= 8
    single = handle.predict_one.remote(rows[0]).result()
    assert single.batch_size == 1 and single.prediction == answers[0].prediction
    # A bad row is refused on its own; the rows batched with it are answered.
    bad = {**rows[1], "chunk": 7}
    mixed = asyncio.run(gather(handle, [bad, rows[1]]))
    assert mixed[0].error is not None and "chunk" in mixed[0].error
    assert mixed[1].prediction == answers[1].prediction
    # The client combines the served verdict with the rules.
    refined = ClassifierClient(app_name=champion.name).refine(analyze_text(FLAKE8))
    assert refined.decided_by == f"model:{model}"
    assert refined.anomaly is not None


@dataclass
class Caller:
    versions: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def hammer(
    handle: DeploymentHandle[Any], row: dict[str, Any], me: Caller, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            served: Served = await handle.predict.remote(row)
        except Exception as error:  # counted: the test asserts there are none
            me.failures.append(repr(error))
            continue
        if served.prediction is None or served.model is None:
            me.failures.append(f"no prediction: {served}")
            continue
        me.versions.append(served.model.rsplit("/", 1)[1])


async def wait_until(check: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)  # yields to the callers; the condition is what we wait on


def compressed(versions: list[str]) -> list[str]:
    return [v for i, v in enumerate(versions) if i == 0 or versions[i - 1] != v]


def test_no_model_then_a_champion_then_a_promotion_under_load_without_a_failed_request(
    serve_instance: None, settings: Settings, frame: pd.DataFrame, logged: str
) -> None:
    handle = deploy(settings, "classifier-swap", max_batch_size=4)
    try:
        no_model(handle, frame)
        # The first champion is picked up by the alias poll, with no redeploy.
        first = register(settings, logged)
        deadline = time.monotonic() + 30
        while handle.status.remote().result()["version"] != first:
            assert time.monotonic() < deadline, "the first champion was not picked up"
        callers, second = asyncio.run(promote_under_load(handle, settings, frame, logged, first))
        assert [c.failures for c in callers] == [[], [], [], []]
        for caller in callers:
            assert compressed(caller.versions) == [first, second, first]
            assert caller.versions[-20:] == [first] * 20
        # A version that will not load leaves the current one serving.
        handle.reconfigure.remote({"model_version": "999", "poll_s": POLL_S}).result()
        assert handle.predict.remote(rows_of(frame, 1)[0]).result().model.endswith(f"/{first}")
        # Following the champion again takes the second version back.
        handle.reconfigure.remote({"model_version": None, "poll_s": POLL_S}).result()
        assert handle.status.remote().result()["version"] == second
    finally:
        serve.delete("classifier-swap")


def no_model(handle: DeploymentHandle[Any], frame: pd.DataFrame) -> None:
    """No champion yet: the deployment says so, and callers get the rules' analysis."""
    assert handle.status.remote().result()["model"] == NO_MODEL
    served = handle.predict.remote(rows_of(frame, 1)[0]).result()
    assert served.model is None and served.prediction is None
    rules = analyze_text(FLAKE8)
    assert ClassifierClient(app_name="classifier-swap").refine(rules) == rules
    # No such application at all: the rules, at once, not an error.
    started = time.monotonic()
    assert ClassifierClient(app_name="no-such-classifier").refine(rules) == rules
    assert time.monotonic() - started < 10


async def promote_under_load(
    handle: DeploymentHandle[Any], settings: Settings, frame: pd.DataFrame, logged: str, first: str
) -> tuple[list[Caller], str]:
    """Four callers send continuously while a second version is promoted (the poll swaps it
    in) and then the first is pinned back with reconfigure (a rollback's user_config)."""
    row = rows_of(frame, 1)[0]
    callers = [Caller() for _ in range(4)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(hammer(handle, row, c, stop)) for c in callers]
    await wait_until(lambda: all(c.versions for c in callers), "first answers")
    second = await asyncio.to_thread(register, settings, logged)
    await wait_until(lambda: all(second in c.versions for c in callers), "the promotion")
    await handle.reconfigure.remote({"model_version": first, "poll_s": POLL_S})
    marks = [len(c.versions) for c in callers]
    # Many polls later the pin still holds, although the champion is the second version.
    await wait_until(
        lambda: all(len(c.versions) > m + 20 for c, m in zip(callers, marks, strict=True)),
        "answers after the pin",
    )
    stop.set()
    await asyncio.gather(*tasks)
    return callers, second


def test_post_analyze_and_the_detector_use_the_served_model(champion: App, tmp_path: Path) -> None:
    decided_by = f"model:{champion.settings.model_name}/{champion.version}"
    settings = Settings(home=tmp_path / "system")  # the API's and detector's own store
    client = ClassifierClient(app_name=champion.name)
    app = create_app(with_auth(settings), refine=client.refine)
    with TestClient(app, headers=bearer(Role.VIEWER)) as http:
        answer = http.post("/analyze", content=FLAKE8, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["decided_by"] == decided_by
    assert answer.json()["anomaly"] is not None

    Store.open(settings).close()  # migrated, as the supervisor does before the pool starts
    detector = Detector(
        settings, name="detector-test", config=DetectorConfig(classifier=champion.name)
    )
    try:
        analysis = detector._analyze(1, FLAKE8)
    finally:
        detector.stop()
    assert analysis.decided_by == decided_by
