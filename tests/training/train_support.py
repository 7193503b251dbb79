"""Shared by the training-run tests: a corpus that trains a worse model, and the checks that a
run logged everything issue #4 asks for."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import Model

from recoverops.models.features import FEATURE_COLUMNS
from recoverops.settings import Settings
from recoverops.sides import side_of
from recoverops.training.datasets import BUILD_LABELS
from recoverops.training.mlflow_model import CHALLENGER, CHAMPION
from recoverops.training.run import TrainResult
from tests.ml_corpus import write_case_corpus

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_mislabelled_corpus(dest: Path) -> Path:
    """The fixture corpus with every training-side label moved to the next class: a model fitted
    on it learns the wrong classes, and is judged on the validation side's true labels."""
    write_case_corpus(dest)
    index = dest / "index.csv"
    with index.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if side_of(row["project"]) == "dev":
            at = BUILD_LABELS.index(row["suggested_label"])
            row["suggested_label"] = BUILD_LABELS[(at + 1) % len(BUILD_LABELS)]
    with index.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return dest


def aliases(settings: Settings) -> dict[str, str]:
    client = mlflow.MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    found = {}
    for alias in (CHAMPION, CHALLENGER):
        try:
            version = client.get_model_version_by_alias(settings.model_name, alias)
            found[alias] = str(version.version)
        except mlflow.exceptions.MlflowException:
            continue
    return found


def assert_run_logged(settings: Settings, result: TrainResult, tmp: Path) -> None:
    """Parameters, per-class metrics, the confusion matrix PNG, the dataset card, tags, and a
    registered model version with its signature and input example."""
    client = mlflow.MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "recoverops"
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["learner"] == "linear" and params["use_rules"] == "True"
    # 20 cases, less the 4 on the test side.
    assert int(params["train_examples"]) + int(params["validation_examples"]) == 16
    assert params["classes"] == ",".join(sorted(BUILD_LABELS))
    for label in BUILD_LABELS:
        assert metrics[f"f1.{label}"] == result.metrics[f"f1.{label}"]
    assert {"macro_f1", "accuracy", "ece", "train_seconds"} <= set(metrics)
    assert metrics["macro_f1"] == result.metrics["macro_f1"]
    assert tags["promotion"] == ("promoted" if result.promoted else "refused")
    assert tags["promotion_reason"] == result.reason
    assert tags["model_version"] == result.model_version

    names = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"confusion_matrix.png", "dataset_card.json", "dataset_card.md"} <= names
    png = Path(client.download_artifacts(result.run_id, "confusion_matrix.png", str(tmp)))
    assert png.read_bytes().startswith(PNG_MAGIC)
    card_file = client.download_artifacts(result.run_id, "dataset_card.json", str(tmp))
    card = json.loads(Path(card_file).read_text("utf-8"))
    assert card == result.card and card["examples"] == 16
    assert "| build.test |" in Path(
        client.download_artifacts(result.run_id, "dataset_card.md", str(tmp))
    ).read_text("utf-8")

    version = client.get_model_version(settings.model_name, result.model_version)
    assert version.run_id == result.run_id
    assert version.tags["promotion"] == tags["promotion"]
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    uri = f"models:/{settings.model_name}/{result.model_version}"
    info = mlflow.models.get_model_info(uri)
    assert info.signature is not None
    assert info.signature.inputs.input_names() == list(FEATURE_COLUMNS)
    assert "category" in info.signature.outputs.input_names()
    local = mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp / "model"))
    example = Model.load(local).load_input_example(local)
    assert isinstance(example, pd.DataFrame)
    assert list(example.columns) == list(FEATURE_COLUMNS)
