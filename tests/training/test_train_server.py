"""The same training flow against a real `mlflow server` on loopback, named by
RECOVEROPS_MLFLOW_URI: champion first, then a worse challenger refused; artifacts go through the
server to its artifact store, never to the trainer's disk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest

from recoverops.settings import Settings
from recoverops.training.run import TrainResult, train
from tests.ml_corpus import write_case_corpus
from tests.training.mlflow_server import MlflowServer
from tests.training.train_support import aliases, assert_run_logged, write_mislabelled_corpus


@dataclass
class ServerFlow:
    server: MlflowServer
    settings: Settings
    tmp: Path
    champion: TrainResult
    challenger: TrainResult
    final_aliases: dict[str, str]


@pytest.fixture(scope="module")
def server_flow(
    tmp_path_factory: pytest.TempPathFactory, mlflow_server: MlflowServer
) -> Iterator[ServerFlow]:
    tmp = tmp_path_factory.mktemp("train-server")
    corpus = write_case_corpus(tmp / "corpus")
    worse = write_mislabelled_corpus(tmp / "mislabelled")
    server = mlflow_server
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RECOVEROPS_HOME", str(tmp / "home"))
        env.setenv("RECOVEROPS_MLFLOW_URI", server.url)
        settings = Settings()
        champion = train(settings, data_dirs=[corpus])
        challenger = train(settings, data_dirs=[worse])
        yield ServerFlow(server, settings, tmp, champion, challenger, aliases(settings))


def test_the_settings_name_the_server(server_flow: ServerFlow) -> None:
    assert server_flow.settings.mlflow_tracking_uri == server_flow.server.url
    assert server_flow.champion.tracking_uri == server_flow.server.url


def test_champion_then_a_worse_challenger_refused(server_flow: ServerFlow) -> None:
    champion, challenger = server_flow.champion, server_flow.challenger
    assert (champion.model_version, champion.promoted) == ("1", True)
    assert champion.reason == "no champion yet"
    assert (challenger.model_version, challenger.promoted) == ("2", False)
    assert challenger.champion_version == "1"
    assert "macro-F1 would drop from" in challenger.reason
    assert challenger.champion_metrics is not None
    assert challenger.champion_metrics["macro_f1"] > challenger.metrics["macro_f1"]
    assert server_flow.final_aliases == {"champion": "1", "challenger": "2"}


def test_both_runs_are_fully_logged_through_the_server(server_flow: ServerFlow) -> None:
    for result in (server_flow.champion, server_flow.challenger):
        assert_run_logged(server_flow.settings, result, server_flow.tmp / result.run_id)
    client = mlflow.MlflowClient(server_flow.server.url)
    experiment = client.get_experiment_by_name("recoverops")
    assert experiment is not None
    assert experiment.artifact_location.startswith("mlflow-artifacts:")
    # The server stored the artifacts; nothing was written under the trainer's home.
    assert any(server_flow.server.artifacts.rglob("confusion_matrix.png"))
    assert any(server_flow.server.artifacts.rglob("python_model.pkl"))
    assert not server_flow.settings.mlflow_artifact_root.exists()
