"""The failure classifier as a Ray Serve deployment, and how it follows the champion.

    Classifier.predict(row)      batched (`serve.batch`): feature rows in, predictions out
    Classifier.predict_one(row)  the same, one row per call (for comparison in bench/)
    Classifier.status()          which model serves, or "no model"
    Classifier.refresh()         look at the champion alias now, swap if it moved
    Classifier.reconfigure(cfg)  Serve's user_config hook: pin a version, tune batching, polling

Each answer names the model version that produced it, so a caller can tell a swap happened.

How a promotion reaches the running system. `recoverops train` and the retrainer promote by
moving the `@champion` alias in the MLflow registry; they are other processes and need not know
whether, or where, a Classifier runs. So every replica polls the alias (one cheap registry query
every `poll_s` seconds) and swaps by itself: all replicas follow, nothing is redeployed, and the
registry stays the one source of truth. `refresh()` (`swap_to_champion`) makes one replica look
at once, and `reconfigure({"model_version": "7"})` pins a version on every replica when Serve
applies a new user_config (a lightweight update in `serve deploy` / KubeRay's RayService;
`{"model_version": null}` follows the champion again).

A swap never drops a request: the new version is loaded beside the old one, then the reference
is replaced in one assignment; a batch in flight finishes on the model it started with.
No champion yet: every answer says "no model" and callers use the rules alone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd
from ray import serve
from ray.serve import Application

from recoverops.models.classifier import Prediction
from recoverops.models.features import FeatureRow, validate_row
from recoverops.settings import Settings
from recoverops.training.mlflow_model import LoadedModel, alias_version, load_version

logger = logging.getLogger("recoverops.serve.classifier")

APP_NAME = "classifier"
DEPLOYMENT_NAME = "Classifier"
NO_MODEL = "no model"


@dataclass(frozen=True, slots=True)
class ClassifierConfig:
    """The deployment's user_config. `model_version` None follows `@champion`."""

    model_version: str | None = None
    poll_s: float = 10.0  # seconds between looks at the alias; 0 turns polling off
    max_batch_size: int = 16
    batch_wait_timeout_s: float = 0.005

    @classmethod
    def parse(cls, config: Mapping[str, Any] | None) -> ClassifierConfig:
        """A config from a user_config dict, or ValueError naming what is wrong."""
        config = dict(config or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"unknown classifier setting(s): {', '.join(unknown)}")
        version = config.get("model_version")
        if version is not None and not str(version).strip():
            raise ValueError("model_version must name a version, or be null for the champion")
        defaults = cls()
        try:
            parsed = cls(
                model_version=None if version is None else str(version),
                poll_s=float(config.get("poll_s", defaults.poll_s)),
                max_batch_size=int(config.get("max_batch_size", defaults.max_batch_size)),
                batch_wait_timeout_s=float(
                    config.get("batch_wait_timeout_s", defaults.batch_wait_timeout_s)
                ),
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"invalid classifier setting: {error}") from None
        if parsed.poll_s < 0 or parsed.max_batch_size < 1 or parsed.batch_wait_timeout_s < 0:
            raise ValueError("poll_s and batch_wait_timeout_s must be >= 0, max_batch_size >= 1")
        return parsed

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Served:
    """One answer: the prediction and the model ("<name>/<version>") that made it, or neither
    (`model` None: no model serves), or an `error` for a row that was not a valid feature row.
    `batch_size` is how many rows the model predicted together with this one."""

    prediction: Prediction | None
    model: str | None
    error: str | None = None
    batch_size: int = 1


def _model_id(loaded: LoadedModel) -> str:
    return f"{loaded.name}/{loaded.version}"


class Classifier:
    """Wrapped with `serve.deployment` by `classifier_application`; plain Python here."""

    def __init__(self, settings: Settings, config: Mapping[str, Any] | None = None) -> None:
        self._settings = settings
        self._config = ClassifierConfig.parse(config)
        # The serving model: replaced by one assignment, read once per batch.
        self._loaded: LoadedModel | None = None
        self._swap_lock = threading.Lock()  # one load at a time: polls and reconfigure
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._apply_batching()
        self._try_sync()  # a registry that is down must not keep the replica from starting
        self._poller = threading.Thread(target=self._poll, name="classifier-poll", daemon=True)
        self._poller.start()

    # Requests

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.005)
    async def predict(self, rows: list[Mapping[str, Any]]) -> list[Served]:
        loaded = self._loaded  # the whole batch is answered by one model
        if loaded is None:
            return [Served(None, None) for _ in rows]
        return await asyncio.to_thread(_predict, loaded, rows)

    def predict_one(self, row: Mapping[str, Any]) -> Served:
        loaded = self._loaded
        if loaded is None:
            return Served(None, None)
        (served,) = _predict(loaded, [row])
        return served

    def status(self) -> dict[str, Any]:
        loaded = self._loaded
        return {
            "model": NO_MODEL if loaded is None else _model_id(loaded),
            "version": None if loaded is None else loaded.version,
            "pinned": self._config.model_version,
            "config": self._config.to_dict(),
        }

    def refresh(self) -> str | None:
        """Look at the alias (or the pinned version) now; the version serving afterwards."""
        self._sync()
        loaded = self._loaded
        return None if loaded is None else loaded.version

    def reconfigure(self, config: Mapping[str, Any] | None) -> None:
        """Serve's user_config hook (also callable through a handle). A bad config is a
        ValueError and leaves the previous one in force; a version that will not load leaves
        the current model serving, and the poller tries again."""
        self._config = ClassifierConfig.parse(config)
        self._apply_batching()
        self._try_sync()
        self._wake.set()  # the poller picks up a changed interval now

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the poller and wait for it: a load in progress finishes first (up to
        `timeout` seconds). Serve calls `__del__` when it stops the replica."""
        self._stop.set()
        self._wake.set()
        poller: threading.Thread | None = getattr(self, "_poller", None)  # None: __init__ failed
        if poller is not None and poller.is_alive() and poller is not threading.current_thread():
            poller.join(timeout)

    def __del__(self) -> None:
        # Serve's shutdown hook. Garbage collection alone would never get here: the poller's
        # bound method keeps the replica alive as long as the poller runs.
        self.shutdown()

    # Swapping

    def _apply_batching(self) -> None:
        batch: Any = self.predict  # serve.batch's wrapper carries the setters
        batch.set_max_batch_size(self._config.max_batch_size)
        batch.set_batch_wait_timeout_s(self._config.batch_wait_timeout_s)

    def _sync(self) -> None:
        """Serve the pinned version or the champion, loading it first if it is not serving."""
        with self._swap_lock:
            wanted = self._config.model_version or alias_version(self._settings)
            current = self._loaded
            if wanted is None or (current is not None and current.version == wanted):
                return  # no champion yet keeps what serves (nothing, or a pinned version)
            loaded = load_version(self._settings, wanted)
            self._loaded = loaded  # the swap: later batches read the new model
            logger.info(
                "classifier now serves %s (was %s)",
                _model_id(loaded),
                NO_MODEL if current is None else _model_id(current),
            )

    def _try_sync(self) -> None:
        try:
            self._sync()
        except Exception:  # the registry is down, or a version will not load: keep serving
            logger.exception("classifier: loading the wanted model failed; serving what was")

    def _poll(self) -> None:
        while not self._stop.is_set():
            interval = self._config.poll_s
            self._wake.wait(interval if interval > 0 else None)
            self._wake.clear()
            if not self._stop.is_set() and self._config.poll_s > 0:
                self._try_sync()


def _predict(loaded: LoadedModel, rows: list[Mapping[str, Any]]) -> list[Served]:
    """Predict the valid rows together; an invalid row gets an error, the others an answer."""
    model = _model_id(loaded)
    valid: list[FeatureRow] = []
    answers: list[Served | None] = []
    for row in rows:
        try:
            valid.append(validate_row(row))
            answers.append(None)
        except (TypeError, ValueError) as error:
            answers.append(Served(None, model, error=str(error)))
    predictions = iter(loaded.model.predict(pd.DataFrame(valid)) if valid else [])
    size = len(valid)
    return [
        a if a is not None else Served(next(predictions), model, batch_size=size) for a in answers
    ]


def classifier_application(
    settings: Settings,
    *,
    config: Mapping[str, Any] | None = None,
    replicas: int = 1,
    num_cpus: float = 0.0,
) -> Application:
    """The Classifier deployment, following `models:/<settings.model_name>@champion`."""
    user_config = ClassifierConfig.parse(config).to_dict()
    deployment = serve.deployment(
        name=DEPLOYMENT_NAME,
        num_replicas=replicas,
        # Enough in flight per replica for full batches to form.
        max_ongoing_requests=64,
        user_config=user_config,
        ray_actor_options={"num_cpus": num_cpus},
    )(Classifier)
    return deployment.bind(settings, user_config)


def swap_to_champion(handle: Any) -> str | None:
    """Make the deployment behind `handle` look at the champion now (rather than at its next
    poll); the version it serves afterwards. With several replicas only the one that takes
    the call swaps at once; the others follow at their next poll."""
    version: str | None = handle.refresh.remote().result(timeout_s=120)
    return version
