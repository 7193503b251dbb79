"""A real registered champion for the serving tests: a FailureModel fitted on the fixture
corpus, logged and registered in the settings' MLflow store, and given an alias.

Logging a model is the slow part (MLflow infers its requirements in a subprocess), so tests log
once (`log_model`) and register that one artifact as many versions as they need (`register`).
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from recoverops.models.classifier import FailureModel
from recoverops.settings import Settings
from recoverops.training.datasets import corpus_examples, featurize, labelled
from recoverops.training.mlflow_model import CHAMPION, log_failure_model, use_tracking
from recoverops.training.registry import experiment_id
from tests.ml_corpus import write_case_corpus


def corpus_frame(dest: Path) -> pd.DataFrame:
    """The labelled feature rows of the fixture corpus, written under `dest`."""
    frame: pd.DataFrame = labelled(featurize(corpus_examples(write_case_corpus(dest))))
    return frame


def log_model(settings: Settings, frame: pd.DataFrame) -> str:
    """Fit a model on `frame` and log it in the settings' store; its model URI."""
    model = FailureModel().fit(frame, frame["label"])
    use_tracking(settings)
    # Its artifacts go under the settings' home, not into ./mlruns.
    with mlflow.start_run(experiment_id=experiment_id(settings, "serving-tests")):
        uri: str = log_failure_model(model, frame)
    return uri


def register(settings: Settings, uri: str, *, alias: str | None = CHAMPION) -> str:
    """Register the logged model `uri` as a new version of `settings.model_name`, point `alias`
    at it (None: no alias); the new version."""
    use_tracking(settings)
    version = str(mlflow.register_model(uri, settings.model_name).version)
    if alias is not None:
        promote(settings, version, alias=alias)
    return version


def promote(settings: Settings, version: str, *, alias: str = CHAMPION) -> None:
    use_tracking(settings)
    mlflow.MlflowClient().set_registered_model_alias(settings.model_name, alias, version)
