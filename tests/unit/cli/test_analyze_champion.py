"""`recoverops analyze` with the champion of RECOVEROPS_HOME's MLflow store, and without one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from recoverops.cli.main import main
from recoverops.settings import Settings
from tests.champion import corpus_frame, log_model, register

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "cases"
FLAKE8 = str(CASES / "plain-flake8" / "log.txt")
NETWORK = str(CASES / "github-uv-python-downloads-dns-error" / "log.txt")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RECOVEROPS_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A home whose MLflow store has a champion; (home, "<name>/<version>")."""
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)
    version = register(settings, log_model(settings, corpus_frame(home / "corpus")))
    return home, f"{settings.model_name}/{version}"


def analyze(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, home: Path, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("RECOVEROPS_HOME", str(home))
    code = main(["analyze", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_the_champion_decides_what_it_knows_and_the_rules_keep_the_rest(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    trained_home: tuple[Path, str],
) -> None:
    home, model = trained_home
    code, out, _ = analyze(capsys, monkeypatch, home, "--json", FLAKE8, NETWORK)
    assert code == 0
    lint, network = (json.loads(line) for line in out.splitlines())
    assert lint["decided_by"] == f"model:{model}" and 0.0 <= lint["anomaly"] <= 1.0
    assert lint["category"].startswith("build.")
    # deploy.network is not a class the model learned: the rules' verdict stands.
    assert network["category"] == "deploy.network" and network["decided_by"] == "rules"
    assert network["anomaly"] is not None
    code, report, _ = analyze(capsys, monkeypatch, home, FLAKE8)
    assert code == 0 and f"decided by: model:{model}  (anomaly " in report


def test_without_a_store_the_rules_answer_and_no_store_is_created(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    code, out, err = analyze(capsys, monkeypatch, home, "--json", FLAKE8)
    assert code == 0 and err == ""
    answer = json.loads(out)
    assert answer["decided_by"] == "rules" and answer["anomaly"] is None
    assert not home.exists()


def test_a_broken_store_falls_back_to_the_rules(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "mlflow.db").write_bytes(b"this is not a database")
    code, out, err = analyze(capsys, monkeypatch, home, "--json", FLAKE8)
    assert code == 0
    assert json.loads(out)["decided_by"] == "rules"
    assert "using the rules alone" in err
