"""The retrainer: starts a training run when enough new operator labels arrived, or on a schedule.

    every retrain_check_s:  new = labelled feedback after the watermark
        new ≥ retrain_min_new_labels, or retrain_interval_s passed since the last run and new > 0
            ──► a Ray task (retrain_num_cpus, retrain_memory_mb) runs training.run.train
                ──► the run registers a model version (promoted or challenger) and is tagged
                    with the watermark it covers; that tag is the retrainer's memory

The watermark is the id of the newest feedback row when a run started: that run saw every label
up to it. It is persisted as a tag on the run's MLflow run (`WATERMARK_TAG`), not in the store:
it describes what a model was trained on, so it belongs with the model's lineage; it is written
only when the run completed, so a crash mid-run leaves the old watermark and the run is redone;
and a restarted retrainer (or a new machine pointed at the same MLflow) reads it back from the
newest tagged run without a schema of its own.

The actor never waits on a run: its loop polls the run's ObjectRef with `ray.wait(timeout=0)`.
At most one run is in flight. A failed run is recorded (`status()["last_error"]`), not raised;
it is retried when new labels arrive or the schedule comes round, not on every check. Ingestion
is never held up: it runs in other actors, and the run's CPU reservation caps what it takes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ray
from ray import ObjectRef

from recoverops.observability.setup import set_up_actor
from recoverops.settings import MIB, Settings
from recoverops.store import Store

from .handles import Handle, spawn

logger = logging.getLogger("recoverops.actors")

WATERMARK_TAG = "recoverops.feedback_watermark"
ACTOR_NAME = "retrainer"
# While a run is in flight the loop looks at it this often (seconds), whatever retrain_check_s is.
RUN_POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class LastRun:
    """What the newest completed (watermark-tagged) training run covered, read from MLflow."""

    watermark: int
    finished_at: float | None  # seconds since the epoch
    run_id: str


def last_run(settings: Settings) -> LastRun | None:
    """The newest training run tagged with a watermark, or None when there is none."""
    import mlflow

    from recoverops.training.mlflow_model import use_tracking

    use_tracking(settings)
    runs = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.`{WATERMARK_TAG}` LIKE '%'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    if not runs:
        return None
    run = runs[0]
    ended = run.info.end_time
    return LastRun(
        watermark=int(run.data.tags[WATERMARK_TAG]),
        finished_at=None if ended is None else ended / 1000.0,
        run_id=run.info.run_id,
    )


def retrain(settings: Settings, watermark: int) -> dict[str, Any]:
    """One training run on the store's labelled incidents (the Ray task's body).

    Tags the run with `watermark` once it completed; its summary for the retrainer's status.
    """
    from mlflow import MlflowClient

    from recoverops.training.mlflow_model import use_tracking
    from recoverops.training.run import train

    store = Store.open(settings, migrate=False)
    try:
        result = train(
            settings, data_dirs=settings.retrain_data_dirs, store=store, with_incidents=True
        )
    finally:
        store.close()
    use_tracking(settings)
    MlflowClient().set_tag(result.run_id, WATERMARK_TAG, str(watermark))
    return {
        "run_id": result.run_id,
        "model_version": result.model_version,
        "promoted": result.promoted,
        "reason": result.reason,
        "macro_f1": result.metrics.get("macro_f1"),
        "watermark": watermark,
    }


_retrain_task = ray.remote(retrain)


def _iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


class Retrainer:
    """Wrapped with `ray.remote` (see `start_retrainer`); plain Python here."""

    def __init__(self, settings: Settings) -> None:
        set_up_actor(settings)  # this actor's process logs and traces as `up` does
        self._settings = settings
        self._store = Store.open(settings, migrate=False)
        self._lock = threading.Lock()
        self._started_at = time.time()
        # None until read back from MLflow: deciding before that could retrain from zero.
        self._watermark: int | None = None
        self._last_run_at: float | None = None
        self._last_result: dict[str, Any] | None = None
        self._last_error: str | None = None
        self._new_labels: int | None = None
        # The run in flight: its ref, the watermark it covers, and since when.
        self._running: ObjectRef[dict[str, Any]] | None = None
        self._running_mark = 0
        self._running_since: float | None = None
        self._why: str | None = None  # why the latest run was started
        # The last failed attempt: the watermark it saw and when it ended (for the retry rule).
        self._failed_mark: int | None = None
        self._failed_at: float | None = None
        self._runs = 0
        self._failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=ACTOR_NAME, daemon=True)
        self._thread.start()

    # Actor methods

    def ping(self) -> str:
        return ACTOR_NAME

    def status(self) -> dict[str, Any]:
        """What it is doing and what came of it. `runs` counts finished attempts (`failures`
        of them failed); `last_result` is the newest run that completed (its model version,
        whether it was promoted and why), `last_error` what went wrong since, if anything."""
        with self._lock:
            self._poll()
            return {
                "started_at": _iso(self._started_at),  # this incarnation of the actor
                "running": self._running is not None,
                "running_since": _iso(self._running_since),
                "why": self._why,
                "watermark": self._watermark,
                "new_labels": self._new_labels,
                "last_run_at": _iso(self._last_run_at),
                "last_result": self._last_result,
                "last_error": self._last_error,
                "runs": self._runs,
                "failures": self._failures,
                "loop_alive": self._thread.is_alive(),
            }

    def trigger(self) -> bool:
        """Start a run now, whatever the counts; False when one is already running."""
        if self._watermark is None:
            self._recover()
        with self._lock:
            self._poll()
            if self._running is not None:
                return False
            self._start("triggered")
            return True

    def check(self) -> str:
        """One look, as the loop takes every retrain_check_s: what it did or why it waits."""
        if self._watermark is None:
            self._recover()  # outside the lock: MLflow may take a while to answer
        with self._lock:
            return self._check()

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        """Stop looking; a run in flight finishes on its own (its watermark tag still lands)."""
        self._stop.set()
        self._thread.join(timeout)
        status = self.status()
        self._store.close()
        return status

    # The loop

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception as error:  # the store or MLflow is down: note it, look again later
                logger.exception("retrainer check failed")
                with self._lock:
                    self._last_error = f"check failed: {type(error).__name__}: {error}"
            with self._lock:
                running = self._running is not None
            wait = self._settings.retrain_check_s
            self._stop.wait(min(wait, RUN_POLL_S) if running else wait)

    def _check(self) -> str:
        self._poll()
        if self._running is not None:
            return "running"
        if self._watermark is None:
            return "waiting for the last run's watermark"
        new = self._store.count_labelled_feedback_after(self._watermark)
        self._new_labels = new
        why = self._due(new)
        if why is None:
            return "waiting"
        self._start(why)
        return "started"

    def _recover(self) -> None:
        """Read back the watermark of the newest completed run (a restart must not forget it)."""
        last = last_run(self._settings)
        with self._lock:
            if self._watermark is None:  # a run that completed meanwhile knows better
                self._watermark = 0 if last is None else last.watermark
                self._last_run_at = None if last is None else last.finished_at

    def _due(self, new: int) -> str | None:
        """Why a run is due with `new` unseen labels, or None when it is not."""
        if new == 0:
            return None
        settings = self._settings
        # Since the last attempt: a failed one counts, so a run that fails on the same data
        # is not retried on every check.
        since = self._failed_at or self._last_run_at or self._started_at
        scheduled = settings.retrain_interval_s > 0
        if scheduled and time.time() - since >= settings.retrain_interval_s:
            return f"{new} new label(s) and {settings.retrain_interval_s:g}s since the last run"
        if new < settings.retrain_min_new_labels:
            return None
        if self._failed_mark is not None:
            fresh = self._store.count_labelled_feedback_after(self._failed_mark)
            if fresh == 0:
                return None  # the last attempt failed on exactly these labels
        return f"{new} new label(s) (threshold {settings.retrain_min_new_labels})"

    def _start(self, why: str) -> None:
        mark = self._store.feedback_watermark()
        settings = self._settings
        self._running = _retrain_task.options(
            num_cpus=settings.retrain_num_cpus,
            memory=settings.retrain_memory_mb * MIB,
            # A run that died is retried by this actor's own rules, not by Ray behind its back.
            max_retries=0,
        ).remote(settings, mark)
        self._running_mark = mark
        self._why = why
        self._running_since = time.time()
        logger.info("retrainer: starting a training run (%s; watermark %d)", why, mark)

    def _poll(self) -> None:
        """Take in the run in flight if it has finished; never waits."""
        if self._running is None:
            return
        ready, _ = ray.wait([self._running], timeout=0)
        if not ready:
            return
        ref, self._running = self._running, None
        self._running_since = None
        self._runs += 1
        try:
            result: dict[str, Any] = ray.get(ref)
        except Exception as error:  # the run's failure is the run's result, recorded
            self._failures += 1
            self._failed_mark, self._failed_at = self._running_mark, time.time()
            self._last_error = _describe(error)
            logger.warning("retrainer: training run failed: %s", self._last_error)
            return
        self._watermark = self._running_mark
        self._last_run_at = time.time()
        self._last_result = result
        self._last_error = None
        self._failed_mark = self._failed_at = None
        logger.info(
            "retrainer: run %s registered version %s (%s)",
            result["run_id"],
            result["model_version"],
            "promoted" if result["promoted"] else result["reason"],
        )


def _describe(error: BaseException) -> str:
    """The task's own exception, not Ray's wrapper with its remote traceback."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        error = cause
    return f"{type(error).__name__}: {error}"


def start_retrainer(settings: Settings, *, name: str = ACTOR_NAME) -> Handle:
    """Start the retrainer actor (named `name`, restarted by Ray if it crashes)."""
    Store.open(settings).close()  # migrated here, once: the actor and its runs open it as is
    retrainer = spawn(
        Retrainer,
        settings,
        options={
            "name": name,
            "num_cpus": 0,
            "max_restarts": -1,
            # status() and trigger() answer while a check is reading the store.
            "max_concurrency": 4,
        },
    )
    ray.get(retrainer.ping.remote(), timeout=60)
    return retrainer
