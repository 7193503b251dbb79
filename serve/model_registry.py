"""The two registry questions the classifier deployment asks: which version is the champion
(cheap, asked every poll), and load that version (only when it changed)."""

from __future__ import annotations

import mlflow

from recoverops.settings import Settings
from recoverops.training.mlflow_model import (
    CHAMPION,
    FailureModelPyfunc,
    LoadedModel,
    use_tracking,
)


def champion_version(settings: Settings, alias: str = CHAMPION) -> str | None:
    """The version `alias` points at, or None when there is no such model or alias."""
    use_tracking(settings)
    try:
        version = mlflow.MlflowClient().get_model_version_by_alias(settings.model_name, alias)
    except mlflow.exceptions.MlflowException:
        return None
    return str(version.version)


def load_version(settings: Settings, version: str) -> LoadedModel:
    """Model version `version` of `settings.model_name`; MlflowException when there is none."""
    use_tracking(settings)
    uri = f"models:/{settings.model_name}/{version}"
    wrapper = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    if not isinstance(wrapper, FailureModelPyfunc):
        raise TypeError(f"{uri} is not a RecoverOps failure model")
    return LoadedModel(wrapper.model, settings.model_name, version, uri)
