"""`recoverops train` end to end against MLflow's embedded SQLite store under RECOVEROPS_HOME.

One store for the module, three runs in order, as an operator would make them:
  1. from the incident store (the fixture corpus, labelled by operator feedback): version 1,
     promoted because there is no champion yet;
  2. `recoverops train --data CORPUS --json` on the same logs: an equal model, promoted by the
     rule (macro-F1 does not drop, no class drops);
  3. `recoverops train --data MISLABELLED`: a worse model, refused, left as @challenger.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest

from recoverops.cli.main import main
from recoverops.detector import analyze_text
from recoverops.incidents import Source
from recoverops.models.features import feature_row
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.taxonomy import Category
from recoverops.training.run import TrainResult, train
from tests.ml_corpus import write_case_corpus
from tests.training.train_support import aliases, assert_run_logged, write_mislabelled_corpus


@dataclass
class Flow:
    settings: Settings
    tmp: Path
    first: TrainResult
    first_aliases: dict[str, str]
    same_json: dict[str, object]
    same_aliases: dict[str, str]
    worse_output: str
    worse_code: int
    final_aliases: dict[str, str]


def label_incidents(store: Store, corpus: Path) -> None:
    """Each corpus log as an analyzed incident of its project, with an operator's category."""
    with (corpus / "index.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        analysis = analyze_text((corpus / row["artifact"] / "failing.log").read_text("utf-8"))
        upsert = store.upsert_incident(
            f"fp-{row['artifact']}",
            target=f"github:{row['project']}:CI/{row['artifact']}",
            category=analysis.category,
            source=Source.GITHUB,
            analysis=analysis,
            features=feature_row(analysis),
        )
        store.add_feedback(
            upsert.incident.id,
            category=Category(row["suggested_label"]),
            fix_outcome=None,
            operator="tester",
        )


def cli(home: Path, *argv: str) -> tuple[int, str]:
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(stdout):
        env.setenv("RECOVEROPS_HOME", str(home))
        env.delenv("RECOVEROPS_MLFLOW_URI", raising=False)
        env.delenv("RECOVEROPS_DATABASE_URL", raising=False)
        code = main(["train", "--no-progress", *argv])
    return code, stdout.getvalue()


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    tmp = tmp_path_factory.mktemp("train-sqlite")
    settings = Settings(home=tmp / "home", mlflow_uri=None, database_url=None)
    corpus = write_case_corpus(tmp / "corpus")
    store = Store.open(settings)
    try:
        label_incidents(store, corpus)
        first = train(settings, store=store)
    finally:
        store.close()
    first_aliases = aliases(settings)

    code, out = cli(settings.home, "--data", str(corpus), "--json")
    assert code == 0, out
    same_aliases = aliases(settings)

    worse = write_mislabelled_corpus(tmp / "mislabelled")
    worse_code, worse_output = cli(settings.home, "--data", str(worse))
    yield Flow(
        settings=settings,
        tmp=tmp,
        first=first,
        first_aliases=first_aliases,
        same_json=json.loads(out),
        same_aliases=same_aliases,
        worse_output=worse_output,
        worse_code=worse_code,
        final_aliases=aliases(settings),
    )


def test_the_first_model_is_registered_and_promoted_for_want_of_a_champion(flow: Flow) -> None:
    assert flow.first.model_version == "1"
    assert flow.first.promoted and flow.first.reason == "no champion yet"
    assert flow.first.champion_metrics is None and flow.first.champion_version is None
    assert flow.first_aliases == {"champion": "1"}
    # 20 labelled incidents, 4 of them of test-side projects, which training never reads.
    assert flow.first.card["by_source"] == {"incidents": 16}
    assert flow.first.metrics["macro_f1"] > 0.5
    assert (flow.settings.home / "mlflow.db").is_file()
    # Artifacts under the home's artifact root, not the working directory.
    assert any(flow.settings.mlflow_artifact_root.rglob("confusion_matrix.png"))


def test_an_equal_model_on_the_same_split_is_promoted(flow: Flow) -> None:
    result = flow.same_json
    assert result["model_version"] == "2"
    assert result["promoted"] is True
    assert result["champion_version"] == "1"
    # The same logs, features and split as the champion's: it is judged equal, class by class
    # (only calibration may differ a little: the rows come in another order).
    metrics, champion = result["metrics"], result["champion_metrics"]
    assert isinstance(metrics, dict) and isinstance(champion, dict)
    f1s = {k: v for k, v in metrics.items() if k.startswith("f1.") or k == "macro_f1"}
    assert f1s == {k: champion[k] for k in f1s}
    assert "no class's F1 drops by more than 0.050" in str(result["reason"])
    assert flow.same_aliases == {"champion": "2"}


def test_a_worse_challenger_is_refused_and_stays_challenger(flow: Flow) -> None:
    assert flow.worse_code == 0  # a refusal is a result, not a failure
    assert flow.final_aliases == {"champion": "2", "challenger": "3"}
    assert "version 3" in flow.worse_output
    assert "kept as @challenger (champion stays version 2)" in flow.worse_output
    assert "macro-F1 would drop from" in flow.worse_output
    client = mlflow.MlflowClient(flow.settings.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name("recoverops")
    assert experiment is not None
    [run] = client.search_runs(
        [experiment.experiment_id],
        filter_string="tags.model_version = '3'",
    )
    assert run.data.tags["promotion"] == "refused"
    reason = run.data.tags["promotion_reason"]
    assert "macro-F1 would drop from" in reason
    assert "F1 would drop by" in reason and "more than the allowed 0.050" in reason
    assert any(f"build.{c} F1 would drop" in reason for c in ("test", "lint", "compilation"))
    assert run.data.metrics["champion.macro_f1"] > run.data.metrics["macro_f1"]


def test_every_run_logs_params_metrics_figure_card_and_a_signed_model(flow: Flow) -> None:
    assert_run_logged(flow.settings, flow.first, flow.tmp / "check-1")
    client = mlflow.MlflowClient(flow.settings.mlflow_tracking_uri)
    run = client.get_run(str(flow.same_json["run_id"]))
    assert run.data.params["data"] == str((flow.tmp / "corpus").resolve())
    # 20 in the corpus, 4 of them on the test side, never read.
    assert run.data.params["examples_read"] == "16"
    assert run.data.tags["promotion"] == "promoted"
    assert run.data.tags["champion_before"] == "1"


def test_the_summary_names_the_run_version_scores_and_where_mlflow_is(flow: Flow) -> None:
    out = flow.worse_output
    assert "recoverops-failure-classifier version 3, MLflow run" in out
    assert f"MLflow: {flow.settings.mlflow_tracking_uri}" in out
    assert "macro-F1" in out and "ECE" in out
    for label in ("build.test", "build.lint", "build.compilation", "build.dependency"):
        assert f"  {label}" in out and "(champion v2:" in out
