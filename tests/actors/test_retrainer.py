"""The retrainer on real Ray, a real store and MLflow's SQLite store: it trains when enough new
operator labels arrived or the schedule comes round, remembers what it trained on across a
restart, and records a failed run without dying or retrying it on the same labels."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import ray
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from ray.exceptions import ActorUnavailableError

from recoverops.actors.handles import Handle
from recoverops.actors.retrainer import WATERMARK_TAG, start_retrainer
from recoverops.auth import Role
from recoverops.serve.app import create_app
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.taxonomy import Category
from recoverops.training.mlflow_model import CHAMPION, use_tracking
from tests.actors.conftest import wait_for
from tests.auth_tokens import bearer, with_auth
from tests.ml_corpus import labelled_cases, store_case_incident

TRAINING_TIMEOUT = 180.0  # a cold Ray worker imports sklearn and MLflow, then trains and logs


@dataclass(frozen=True, slots=True)
class Labelled:
    incident_id: int
    label: Category


@pytest.fixture(scope="module")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store, made once: a new one runs MLflow's migrations (seconds)."""
    home = tmp_path_factory.mktemp("mlflow-template")
    use_tracking(Settings(home=home, database_url=None, mlflow_uri=None))
    MlflowClient().search_experiments()
    return home / "mlflow.db"


def retrain_settings(base: Settings, home: Path, template: Path, **retrain: Any) -> Settings:
    """`base` (its store) with a fresh MLflow store under `home`, a quick check, a small task."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, home / "mlflow.db")
    return base.model_copy(
        update={
            "home": home,
            "retrain_check_s": 0.1,
            "retrain_interval_s": 0.0,
            "retrain_num_cpus": 1.0,
            "retrain_memory_mb": 256,
            **retrain,
        }
    )


def analyzed_incidents(store: Store) -> list[Labelled]:
    """One incident per labelled fixture case, analyzed from its real log as a detector does,
    targeted at the project the training corpus gives the case (so every class has cases on the
    dev and validation sides of the split by project)."""
    made = []
    for case, category, project in labelled_cases():
        incident = store_case_incident(store, case, target=f"github:{project}:ci/{case}")
        made.append(Labelled(incident, Category(category)))
    return made


def label(store: Store, incident: Labelled, category: Category | None = None) -> None:
    store.add_feedback(
        incident.incident_id, category=category or incident.label, fix_outcome=None, operator="sre"
    )


def status(retrainer: Handle) -> dict[str, Any]:
    answer: dict[str, Any] = ray.get(retrainer.status.remote(), timeout=30)
    return answer


def status_when(retrainer: Handle, condition: Any, *, what: str, timeout: float = 30.0) -> Any:
    """The retrainer's status once `condition(status)` holds."""

    def check() -> dict[str, Any] | None:
        try:
            now = status(retrainer)
        except ActorUnavailableError:  # being restarted by Ray
            return None
        return now if condition(now) else None

    return wait_for(check, what=what, timeout=timeout)


@pytest.fixture
def retrainers(ray_session: None) -> Iterator[list[Handle]]:
    """Retrainers a test started, killed at its end (each under its own actor name)."""
    started: list[Handle] = []
    yield started
    for retrainer in started:
        ray.kill(retrainer, no_restart=True)


def start(settings: Settings, started: list[Handle]) -> Handle:
    retrainer = start_retrainer(settings, name=f"retrainer-{uuid.uuid4().hex[:8]}")
    started.append(retrainer)
    return retrainer


def test_a_run_starts_at_the_threshold_registers_a_model_and_survives_a_restart(
    sqlite_settings: Settings, mlflow_template: Path, retrainers: list[Handle]
) -> None:
    store = Store.open(sqlite_settings)
    incidents = analyzed_incidents(store)
    settings = retrain_settings(
        sqlite_settings,
        sqlite_settings.home,
        mlflow_template,
        retrain_min_new_labels=len(incidents),
    )
    for incident in incidents[:-1]:
        label(store, incident)
    retrainer = start(settings, retrainers)

    below = status_when(
        retrainer,
        lambda s: s["new_labels"] == len(incidents) - 1,
        what="the retrainer to count the labels",
    )
    assert (below["runs"], below["running"], below["watermark"]) == (0, False, 0)
    assert ray.get(retrainer.check.remote(), timeout=30) == "waiting"

    # The last label arrives as an operator gives it: through the API.
    with TestClient(create_app(with_auth(settings), store=store)) as client:
        last = incidents[-1]
        answer = client.post(
            f"/incidents/{last.incident_id}/feedback",
            json={"category": last.label.value},
            headers=bearer(Role.OPERATOR, "bob"),
        )
    assert answer.status_code == 201, answer.text
    watermark = store.feedback_watermark()
    status_when(retrainer, lambda s: s["running"], what="the run to start")
    assert ray.get(retrainer.trigger.remote(), timeout=30) is False  # one run at a time

    done = status_when(
        retrainer,
        lambda s: s["runs"] == 1 and not s["running"],
        what="the training run",
        timeout=TRAINING_TIMEOUT,
    )
    assert done["last_error"] is None
    assert done["why"] == f"{len(incidents)} new label(s) (threshold {len(incidents)})"
    result = done["last_result"]
    assert (result["model_version"], result["promoted"]) == ("1", True)
    assert done["watermark"] == watermark == len(incidents)
    use_tracking(settings)
    mlflow = MlflowClient()
    champion = mlflow.get_model_version_by_alias(settings.model_name, CHAMPION)
    assert str(champion.version) == "1"
    assert mlflow.get_run(result["run_id"]).data.tags[WATERMARK_TAG] == str(watermark)
    # Nothing new since: no second run.
    assert ray.get(retrainer.check.remote(), timeout=30) == "waiting"
    assert status(retrainer)["runs"] == 1

    # Ray restarts a crashed retrainer; the new incarnation reads its watermark back from MLflow.
    ray.kill(retrainer, no_restart=False)
    restarted = status_when(
        retrainer,
        lambda s: s["started_at"] != done["started_at"] and s["new_labels"] is not None,
        what="the restarted retrainer to read its watermark",
        timeout=60,
    )
    assert (restarted["watermark"], restarted["new_labels"], restarted["runs"]) == (watermark, 0, 0)
    assert restarted["last_run_at"] is not None
    store.close()


def test_a_failing_run_is_recorded_and_retried_on_new_labels_or_a_trigger(
    postgresql_settings: Settings,
    tmp_path: Path,
    mlflow_template: Path,
    retrainers: list[Handle],
) -> None:
    settings = retrain_settings(
        postgresql_settings, tmp_path / "home", mlflow_template, retrain_min_new_labels=2
    )
    store = Store.open(settings)
    incidents = analyzed_incidents(store)
    # Operators agree on one class only: training needs two, so the run fails.
    for incident in incidents[:2]:
        label(store, incident, Category.BUILD_TEST)
    retrainer = start(settings, retrainers)

    failed = status_when(
        retrainer,
        lambda s: s["failures"] == 1 and not s["running"],
        what="the failed run",
        timeout=TRAINING_TIMEOUT,
    )
    assert "TrainingError" in failed["last_error"]
    assert "at least two classes" in failed["last_error"]
    assert (failed["runs"], failed["watermark"], failed["last_result"]) == (1, 0, None)
    # Still alive, and not retrying on the same labels.
    assert ray.get(retrainer.check.remote(), timeout=30) == "waiting"
    assert status(retrainer)["runs"] == 1

    label(store, incidents[2], Category.BUILD_TEST)
    again = status_when(
        retrainer,
        lambda s: s["failures"] == 2 and not s["running"],
        what="the retry",
        timeout=TRAINING_TIMEOUT,
    )
    assert again["runs"] == 2 and again["watermark"] == 0

    # An operator may start one now, whatever the counts.
    assert ray.get(retrainer.trigger.remote(), timeout=30) is True
    triggered = status_when(
        retrainer,
        lambda s: s["failures"] == 3 and not s["running"],
        what="the triggered run",
        timeout=TRAINING_TIMEOUT,
    )
    assert triggered["why"] == "triggered"
    store.close()


def test_the_schedule_starts_a_run_below_the_threshold(
    sqlite_settings: Settings, mlflow_template: Path, retrainers: list[Handle]
) -> None:
    settings = retrain_settings(
        sqlite_settings,
        sqlite_settings.home,
        mlflow_template,
        retrain_min_new_labels=1000,
        retrain_interval_s=0.05,
    )
    store = Store.open(settings)
    incident = analyzed_incidents(store)[0]
    retrainer = start(settings, retrainers)
    idle = status_when(retrainer, lambda s: s["new_labels"] == 0, what="the first check")
    # The schedule has come round (the actor is older than the interval), but with no new
    # label it trains on nothing.
    up_for = datetime.now(UTC) - datetime.fromisoformat(idle["started_at"])
    assert up_for.total_seconds() > settings.retrain_interval_s
    assert ray.get(retrainer.check.remote(), timeout=30) == "waiting"
    assert status(retrainer)["runs"] == 0

    label(store, incident)
    scheduled = status_when(
        retrainer, lambda s: s["why"] is not None, what="a scheduled run", timeout=30
    )
    assert scheduled["why"] == "1 new label(s) and 0.05s since the last run"
    store.close()
