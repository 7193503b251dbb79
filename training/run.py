"""One training run: data → model → evaluation → MLflow run → registered version → promotion.

    train(settings, data_dirs=[…])   labelled corpora on disk (BugSwarm, LogChunks or
                                     labelled-texts layouts)
    train(settings)                  the incident store the settings name (operator feedback)

The data is split by project (`recoverops.sides`): the model is fitted on the dev side and judged
on the validation side, and so is the current `@champion`, on the same rows. The test side is
never read: its examples are dropped before a log is opened (its figures are the benchmarks').
Everything the run saw and decided is in its MLflow run: parameters, metrics (per class too), the
confusion matrix, the dataset card, the model with its signature and input example, and the tags
`promotion` / `promotion_reason`.

Expected problems (no data, too little of it, one class, no validation projects) raise
`TrainingError` with a message for the operator; nothing is logged to MLflow in that case.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from recoverops.errors import RecoverOpsError
from recoverops.models.classifier import FailureModel, ModelConfig
from recoverops.settings import Settings
from recoverops.sides import side_of
from recoverops.store import Store

from . import registry
from .datasets import (
    DatasetError,
    card_markdown,
    corpus_examples,
    dataset_card,
    featurize,
    labelled,
    split_sides,
    without_test_side,
)
from .evaluate import Evaluation, evaluate
from .figures import confusion_figure
from .local_champion import save_copy
from .mlflow_model import (
    CHALLENGER,
    CHAMPION,
    LoadedModel,
    load_alias,
    log_failure_model,
    use_tracking,
)
from .progress import note, progress_bar
from .promotion import Decision, Scores, decide

INCIDENT_STORE = "incident store"
# MLflow refuses parameter values longer than this.
_MAX_PARAM = 6000


class TrainingError(RecoverOpsError):
    """The data cannot train a model (missing, unreadable, too little, one class, no validation
    side); the message says what was found and what is needed."""


@dataclass(frozen=True, slots=True)
class TrainResult:
    run_id: str
    model_version: str
    promoted: bool
    reason: str
    # The new model on the validation side: macro_f1, accuracy, ece, f1./precision./recall.<class>.
    metrics: dict[str, float]
    # The champion before this run, on the same split; None when there was none.
    champion_metrics: dict[str, float] | None
    card: dict[str, Any]
    champion_version: str | None
    model_name: str
    experiment_id: str
    tracking_uri: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train(
    settings: Settings,
    *,
    data_dirs: Sequence[Path] = (),
    store: Store | None = None,
    config: ModelConfig | None = None,
    progress: bool = False,
    labels: Sequence[str] | None = None,
    workers: int = 1,
    with_incidents: bool = False,
) -> TrainResult:
    """Train on `data_dirs` (or, when none are given, the incident store: `store`, or the one the
    settings name; `with_incidents` adds the store's labelled incidents to the corpora), log the
    run, register the model and promote it if it beats the champion."""
    config = config or ModelConfig()
    say: Callable[[str], None] = note if progress else _quiet
    started = time.monotonic()
    frame = _load(settings, data_dirs, store, progress=progress, workers=workers)
    if data_dirs and with_incidents:
        # Operators' labels beside the corpora: what the retrainer learns from as feedback arrives.
        frame = pd.concat([frame, _incidents(settings, store)], ignore_index=True)
    data_seconds = time.monotonic() - started
    source = _describe(data_dirs) + (f" and the {INCIDENT_STORE}" if with_incidents else "")
    rows, train_rows, validation = _prepare(frame, labels, source=source)

    say(
        f"fitting on {len(train_rows)} examples from {train_rows['project'].nunique()} projects"
        f" ({len(validation)} on the validation side)"
    )
    started = time.monotonic()
    model = FailureModel(config).fit(train_rows, [str(v) for v in train_rows["label"]])
    train_seconds = time.monotonic() - started
    evaluation = evaluate(model, validation)
    card = dataset_card(rows)

    use_tracking(settings)
    shown_uri = registry.display_uri(settings.mlflow_tracking_uri)
    say(f"logging the run to MLflow at {shown_uri}")
    experiment = registry.experiment_id(settings)
    with mlflow.start_run(experiment_id=experiment) as run:
        run_id = run.info.run_id
        mlflow.log_params(
            _params(
                config,
                [*data_dirs, *([INCIDENT_STORE] if with_incidents and data_dirs else [])],
                labels,
                frame=frame,
                train=train_rows,
                validation=validation,
            )
        )
        timings = {"train_seconds": train_seconds, "data_seconds": data_seconds}
        _log_evaluation(evaluation, card, timings)
        model_uri = log_failure_model(model, train_rows)
        with registry.promotion_lock(settings):
            champion, champion_eval, decision = _judge(settings, evaluation, validation, say)
            outcome = _outcome_tags(decision)
            version = registry.register(settings, model_uri, run_id=run_id, tags=outcome)
            registry.set_alias(settings, CHAMPION if decision.promote else CHALLENGER, version)
            if decision.promote:  # `recoverops analyze` uses this copy, without MLflow
                save_copy(settings, model=model, version=version)
        mlflow.set_tags(
            {
                **outcome,
                "model_version": version,
                "champion_before": champion.version if champion else "none",
            }
        )
    verdict = "promoted to @champion" if decision.promote else "kept as @challenger"
    say(f"version {version} {verdict}: {decision.reason}")
    return TrainResult(
        run_id=run_id,
        model_version=version,
        promoted=decision.promote,
        reason=decision.reason,
        metrics={**evaluation.metrics(), "train_seconds": train_seconds},
        champion_metrics=None if champion_eval is None else champion_eval.metrics(),
        card=card,
        champion_version=champion.version if champion else None,
        model_name=settings.model_name,
        experiment_id=experiment,
        tracking_uri=shown_uri,
    )


def _log_evaluation(
    evaluation: Evaluation, card: dict[str, Any], timings: dict[str, float]
) -> None:
    """The validation scores, the confusion matrix and the dataset card, to the active run."""
    mlflow.log_metrics({**evaluation.metrics(), **timings})
    mlflow.log_figure(confusion_figure(evaluation), "confusion_matrix.png")
    mlflow.log_dict(card, "dataset_card.json")
    mlflow.log_text(card_markdown(card), "dataset_card.md")
    mlflow.log_dict(_report(evaluation), "evaluation.json")


def _judge(
    settings: Settings,
    evaluation: Evaluation,
    validation: pd.DataFrame,
    say: Callable[[str], None],
) -> tuple[LoadedModel | None, Evaluation | None, Decision]:
    """The current champion judged on the same validation rows, and the promotion decision."""
    champion = load_alias(settings, CHAMPION)
    if champion is None:
        champion_eval = None
    else:
        say(f"judging the champion (version {champion.version}) on the same validation side")
        champion_eval = evaluate(champion.model, validation)
        mlflow.log_metrics({f"champion.{k}": v for k, v in champion_eval.metrics().items()})
    decision = decide(
        Scores(evaluation.macro_f1, evaluation.class_f1()),
        None if champion_eval is None else Scores(champion_eval.macro_f1, champion_eval.class_f1()),
        max_class_drop=settings.promote_max_class_drop,
        champion_label=f"champion v{champion.version}" if champion else "the champion",
    )
    return champion, champion_eval, decision


def _quiet(message: str) -> None:  # noqa: ARG001 (a `note` that says nothing)
    return None


def _load(
    settings: Settings,
    data_dirs: Sequence[Path],
    store: Store | None,
    *,
    progress: bool,
    workers: int,
) -> pd.DataFrame:
    """Every example of the data folders, featurized; or the incident store's frame."""
    if not data_dirs:
        return _incidents(settings, store)
    try:
        found = [e for folder in data_dirs for e in corpus_examples(Path(folder))]
        if not found:
            shown = ", ".join(str(d) for d in data_dirs)
            raise TrainingError(f"{shown}: the corpus index lists no examples")
        examples = without_test_side(found)
        bar: Callable[[Iterator[dict[str, Any]], int], Iterator[dict[str, Any]]] | None = (
            progress_bar("featurizing logs") if progress else None
        )
        return featurize(examples, workers=workers, progress=bar)
    except DatasetError as error:
        raise TrainingError(str(error)) from error


def _incidents(settings: Settings, store: Store | None) -> pd.DataFrame:
    from .incident_data import incidents_frame  # the store's dataset code, only when asked for

    opened = Store.open(settings) if store is None else store
    try:
        frame: pd.DataFrame = incidents_frame(opened)
    finally:
        if store is None:
            opened.close()
    return frame[frame["project"].map(side_of) != "test"].reset_index(drop=True)


def _prepare(
    frame: pd.DataFrame, labels: Sequence[str] | None, *, source: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(labelled rows, dev side, validation side), or TrainingError saying what is missing."""
    rows = labelled(frame, labels)
    wanted = f" with one of the labels {', '.join(labels)}" if labels else ""
    if rows.empty:
        raise TrainingError(
            f"{source}: no labelled examples{wanted} among {len(frame)} found; "
            "training needs examples with a known category"
        )
    classes = sorted(rows["label"].unique())
    if len(classes) < 2:
        raise TrainingError(
            f"{source}: every labelled example is {classes[0]} ({len(rows)} examples); "
            "training needs at least two classes"
        )
    sides = split_sides(rows)
    train_rows, validation = sides["dev"], sides["validation"]
    projects = rows["project"].nunique()
    if validation.empty or train_rows.empty:
        empty = "validation" if validation.empty else "dev"
        raise TrainingError(
            f"{source}: the {empty} side of the project split is empty ({len(rows)} labelled "
            f"examples from {projects} projects); about 70% of projects are dev and 15% "
            "validation, so add examples from more projects"
        )
    trained = sorted(train_rows["label"].unique())
    if len(trained) < 2:
        raise TrainingError(
            f"{source}: the dev side of the project split holds only {trained[0]}; "
            "add examples of other classes from more projects"
        )
    return rows, train_rows, validation


def _describe(data_dirs: Sequence[Path]) -> str:
    return ", ".join(str(d) for d in data_dirs) if data_dirs else INCIDENT_STORE


def _params(
    config: ModelConfig,
    data_dirs: Sequence[Path | str],
    labels: Sequence[str] | None,
    *,
    frame: pd.DataFrame,
    train: pd.DataFrame,
    validation: pd.DataFrame,
) -> dict[str, Any]:
    named = [str(d) if d == INCIDENT_STORE else str(Path(d).resolve()) for d in data_dirs]
    data = os.pathsep.join(named) if named else INCIDENT_STORE
    # Every field of the config, so a field added to ModelConfig is logged without a change here.
    params: dict[str, Any] = {f.name: _param_value(getattr(config, f.name)) for f in fields(config)}
    params |= {
        "data": data,
        "labels": ",".join(labels) if labels else "all",
        # Examples read: what the data holds less the test side, which training never reads.
        "examples_read": len(frame),
        "examples_labelled": len(train) + len(validation),
        "train_examples": len(train),
        "train_projects": int(train["project"].nunique()),
        "validation_examples": len(validation),
        "validation_projects": int(validation["project"].nunique()),
        "classes": ",".join(sorted(set(train["label"]) | set(validation["label"]))),
    }
    return {k: (v[:_MAX_PARAM] if isinstance(v, str) else v) for k, v in params.items()}


def _param_value(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _report(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "examples": evaluation.examples,
        "macro_f1": evaluation.macro_f1,
        "accuracy": evaluation.accuracy,
        "ece": evaluation.ece,
        "per_class": {k: asdict(v) for k, v in evaluation.per_class.items()},
        "confusion": {
            "labels": list(evaluation.matrix_labels),
            "matrix": [list(row) for row in evaluation.confusion],
        },
    }


def _outcome_tags(decision: Decision) -> dict[str, str]:
    return {
        "promotion": "promoted" if decision.promote else "refused",
        "promotion_reason": decision.reason,
    }
