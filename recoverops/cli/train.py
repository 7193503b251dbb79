"""`recoverops train`: one training run, logged to MLflow, registered, and promoted if it wins.

    recoverops train --data corpora/bugswarm     labelled corpora (repeat --data)
    recoverops train                             the incident store's labelled incidents

Reads every log through the detector (never those of the test side's projects), fits the model
on the dev side, logs the run to MLflow, registers the model and promotes it to `@champion` when
it is no worse than the champion on the same validation projects (it then also goes to
RECOVEROPS_HOME/champion, the copy `recoverops analyze` uses). Prints the run, the registered
version, the validation scores and whether the model became `@champion` (and why not, when it
did not); `--json` prints one JSON object instead.

Exit codes: 0 a model was trained and registered (promoted or not), 1 the data cannot train
one or MLflow failed (a message says which), 2 bad usage, 3 an invalid setting.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recoverops.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    help_formatter,
    load_settings,
    say,
    settings_epilog,
    whole_number,
)
from recoverops.errors import RecoverOpsError
from recoverops.settings import Settings

if TYPE_CHECKING:
    from recoverops.training.run import TrainResult


READS = (
    "home",
    "database_url",
    "mlflow_uri",
    "model_name",
    "promote_max_class_drop",
    "signatures_path",
    "max_log_bytes",
    "analysis_window_lines",
)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "train",
        help="train the failure classifier, log it to MLflow and promote it if it wins",
        description=__doc__,
        epilog=settings_epilog(*READS),
        formatter_class=help_formatter,
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        type=Path,
        action="append",
        default=[],
        help="a labelled corpus folder (BugSwarm or LogChunks layout); repeatable. "
        "Default: the incident store",
    )
    parser.add_argument(
        "--incidents",
        action="store_true",
        help="with --data: add the incident store's labelled incidents to the corpora",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--workers",
        type=whole_number(1),
        default=1,
        metavar="N",
        help="processes that read the logs",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None:
        return EXIT_CONFIG
    with warnings.catch_warnings():
        # MLflow's own deprecation notices and INFO lines are not the operator's business.
        warnings.filterwarnings("ignore", module=r"mlflow(\.|$)")
        warnings.filterwarnings("ignore", message=".*Any type hint is inferred as AnyType")
        import mlflow  # configures its loggers on import: quieten them after that

        mlflow_logger = logging.getLogger(mlflow.__name__)
        level = mlflow_logger.level
        mlflow_logger.setLevel(logging.ERROR)
        try:
            return _train(settings, args)
        finally:
            mlflow_logger.setLevel(level)


def _train(settings: Settings, args: argparse.Namespace) -> int:
    from mlflow.exceptions import MlflowException

    from recoverops.training.registry import display_uri, redact
    from recoverops.training.run import TrainingError, train

    try:
        result = train(
            settings,
            data_dirs=args.data,
            progress=not args.no_progress,
            workers=args.workers,
            with_incidents=args.incidents,
        )
    except TrainingError as error:
        say(f"cannot train: {error}")
        return EXIT_FAILED
    except MlflowException as error:
        uri = settings.mlflow_tracking_uri
        say(f"MLflow at {display_uri(uri)} failed: {redact(str(error.message), uri)}")
        return EXIT_FAILED
    except RecoverOpsError as error:
        say(f"configuration error: {error}")
        return EXIT_CONFIG
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), sort_keys=True) + "\n")
    else:
        sys.stdout.write(summary(result))
    return EXIT_OK


def summary(result: TrainResult) -> str:
    """The run in a few lines: where it is, how it scored, what became of it."""
    from recoverops.training.registry import EXPERIMENT

    card = result.card
    validation = card["by_side"]["validation"]
    trained = card["by_side"]["dev"]
    metrics = result.metrics
    lines = [
        f"model {result.model_name} version {result.model_version}, MLflow run {result.run_id}",
        f"  MLflow: {result.tracking_uri} (experiment {EXPERIMENT}, id {result.experiment_id})",
        f"trained on {trained['examples']} examples from {trained['projects']} dev projects; "
        f"judged on {validation['examples']} from {validation['projects']} validation projects "
        "(the test side is never read)",
        f"macro-F1 {metrics['macro_f1']:.3f}  accuracy {metrics['accuracy']:.3f}  "
        f"ECE {metrics['ece']:.3f}",
    ]
    champion = result.champion_metrics or {}
    for name in sorted(k.removeprefix("f1.") for k in metrics if k.startswith("f1.")):
        line = f"  {name:<24} F1 {metrics[f'f1.{name}']:.3f}"
        if f"f1.{name}" in champion:
            line += f"  (champion v{result.champion_version}: {champion[f'f1.{name}']:.3f})"
        lines.append(line)
    if result.promoted:
        lines.append(f"promoted to @champion: {result.reason}")
    else:
        lines.append(
            f"not promoted, kept as @challenger (champion stays version "
            f"{result.champion_version}): {result.reason}"
        )
    return "\n".join(lines) + "\n"
