"""Where training runs go in MLflow: the experiment, the registered model and its aliases.

Call `use_tracking(settings)` (training.mlflow_model) first; these functions use the tracking
and registry URIs it sets.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

from recoverops.settings import Settings

EXPERIMENT = "recoverops"


def display_uri(uri: str) -> str:
    """The URI without a password, for messages and results."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def redact(text: str, uri: str) -> str:
    """`text` (an MLflow error message, say) without the password `uri` carries."""
    password = urlsplit(uri).password
    return text.replace(f":{password}@", ":***@") if password else text


def _served_artifacts(tracking_uri: str) -> bool:
    """A tracking server stores (or proxies) artifacts itself; a database URI needs a folder."""
    return tracking_uri.startswith(("http://", "https://"))


def experiment_id(settings: Settings, name: str = EXPERIMENT) -> str:
    """The id of the training experiment, created on first use: its artifacts go under
    `settings.mlflow_artifact_root`, unless a tracking server decides where they go (a folder
    on this machine would be unreadable from the servers that load the model)."""
    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(name)
    if found is None:
        location = (
            None
            if _served_artifacts(settings.mlflow_tracking_uri)
            else settings.mlflow_artifact_root.as_uri()
        )
        try:
            return str(client.create_experiment(name, artifact_location=location))
        except MlflowException as error:
            # Another run created it between our look-up and our create: use theirs.
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
    if found.lifecycle_stage == "deleted":
        client.restore_experiment(found.experiment_id)
    return str(found.experiment_id)


def register(settings: Settings, model_uri: str, *, run_id: str, tags: dict[str, str]) -> str:
    """Register the model just logged at `model_uri` as a new version of `settings.model_name`;
    returns the version. (Through the client: `mlflow.register_model` prints to stderr.)"""
    client = mlflow.MlflowClient()
    try:
        client.create_registered_model(settings.model_name)
    except MlflowException as error:
        if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
    logged = mlflow.last_logged_model()
    if logged is None or logged.model_uri != model_uri:
        raise RuntimeError(f"{model_uri} is not the model this thread logged last")
    version = client.create_model_version(
        settings.model_name, model_uri, run_id=run_id, tags=tags, model_id=logged.model_id
    )
    return str(version.version)


def set_alias(settings: Settings, alias: str, version: str) -> None:
    mlflow.MlflowClient().set_registered_model_alias(settings.model_name, alias, version)


@contextmanager
def promotion_lock(settings: Settings) -> Iterator[None]:
    """Held from judging the champion to moving the alias: two runs at once cannot both promote
    against the same champion; the second judges the first's model. The lock is a file under
    RECOVEROPS_HOME, so it holds between the runs that share a home (the CLI, the retrainer
    actor, the notebooks of one machine or one mounted volume)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with (settings.home / "promotion.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
