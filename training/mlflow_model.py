"""The failure model as an MLflow pyfunc: how it is logged, and how it is loaded back.

The contract every consumer relies on (`recoverops train`, the classifier deployment,
`recoverops analyze`, the notebooks):

    input   a DataFrame with `features.FEATURE_COLUMNS` (one row per analysis)
    output  a DataFrame with `category`, `confidence`, `anomaly`, and `p:<class>` for each class

The registered model is `Settings.model_name`; the alias `champion` is what serves, `challenger`
a trained model that was not promoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc.model import PythonModel
from mlflow.types import ColSpec, Schema

from recoverops.models.classifier import FailureModel, Prediction
from recoverops.models.features import (
    FEATURE_COLUMNS,
    NUMBER_COLUMNS,
    TEXT_COLUMNS,
    templates_text,
)
from recoverops.redaction import redact_text
from recoverops.settings import Settings

CHAMPION = "champion"
CHALLENGER = "challenger"
ARTIFACT_NAME = "model"


def predictions_frame(predictions: list[Prediction], classes: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "category": p.category,
                "confidence": p.confidence,
                "anomaly": p.anomaly,
                **{f"p:{c}": p.probabilities.get(c, 0.0) for c in classes},
            }
            for p in predictions
        ],
        columns=["category", "confidence", "anomaly", *(f"p:{c}" for c in classes)],
    )


class FailureModelPyfunc(PythonModel):
    """Wraps a fitted FailureModel; cloudpickled with the run."""

    def __init__(self, model: FailureModel) -> None:
        self.model = model

    def predict(
        self,
        context: Any,  # noqa: ARG002 (pyfunc's signature)
        model_input: pd.DataFrame,
        params: Any = None,  # noqa: ARG002
    ) -> pd.DataFrame:
        return predictions_frame(self.model.predict(model_input), self.model.classes_)


def signature(classes: tuple[str, ...]) -> ModelSignature:
    inputs = Schema(
        [ColSpec("double" if c in NUMBER_COLUMNS else "string", c) for c in FEATURE_COLUMNS]
    )
    outputs = Schema(
        [
            ColSpec("string", "category"),
            ColSpec("double", "confidence"),
            ColSpec("double", "anomaly"),
            *(ColSpec("double", f"p:{c}") for c in classes),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_failure_model(model: FailureModel, example: pd.DataFrame) -> str:
    """Log `model` to the active run; returns its model URI."""
    info = mlflow.pyfunc.log_model(
        name=ARTIFACT_NAME,
        python_model=FailureModelPyfunc(model),
        signature=signature(model.classes_),
        input_example=published_example(example),
        # Named, not inferred: inference runs the model in a subprocess (~2.5 s a run), and the
        # pickled wrapper needs recoverops itself, which inference would not name.
        pip_requirements=_requirements(),
    )
    return str(info.model_uri)


def published_example(frame: pd.DataFrame) -> pd.DataFrame:
    """The input example stored with the model: two feature rows with their text redacted.

    Rows the detector made are redacted already; a row kept with an incident stored before
    redaction existed may not be, and anyone who can read the run can read the example. Its
    templates are made again from the redacted chunk: a masked template (`xoxb-<NUM>-…`) no
    longer has the shape of the secret it holds."""
    example = frame[list(FEATURE_COLUMNS)].head(2).copy()
    for column in TEXT_COLUMNS:
        example[column] = example[column].map(lambda v: redact_text(v) if isinstance(v, str) else v)
    example["templates"] = example["chunk"].map(lambda chunk: templates_text(chunk.split("\n")))
    return example


def _requirements() -> list[str]:
    from importlib.metadata import version

    import sklearn

    return [
        f"recoverops=={version('recoverops')}",
        f"mlflow=={mlflow.__version__}",
        f"scikit-learn=={sklearn.__version__}",
        f"pandas=={pd.__version__}",
    ]


@dataclass(frozen=True, slots=True)
class LoadedModel:
    model: FailureModel
    name: str
    version: str
    uri: str


def use_tracking(settings: Settings) -> None:
    """Point MLflow at the settings' tracking and registry store (creating `home` for SQLite)."""
    if not settings.mlflow_uri:
        settings.home.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)


def alias_version(settings: Settings, alias: str = CHAMPION) -> str | None:
    """The version `alias` points at, or None when there is no such model or alias (cheap: the
    classifier deployment asks it on every poll)."""
    use_tracking(settings)
    try:
        version = mlflow.MlflowClient().get_model_version_by_alias(settings.model_name, alias)
    except mlflow.exceptions.MlflowException:
        return None
    return str(version.version)


def load_version(settings: Settings, version: str) -> LoadedModel:
    """Version `version` of `settings.model_name`; MlflowException when there is none."""
    use_tracking(settings)
    uri = f"models:/{settings.model_name}/{version}"
    wrapper = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    if not isinstance(wrapper, FailureModelPyfunc):
        raise TypeError(f"{uri} is not a RecoverOps failure model")
    return LoadedModel(wrapper.model, settings.model_name, version, uri)


def load_alias(settings: Settings, alias: str = CHAMPION) -> LoadedModel | None:
    """The model version behind `alias`, or None when there is no such model or alias."""
    version = alias_version(settings, alias)
    return None if version is None else load_version(settings, version)
