"""`recoverops analyze` with the champion of RECOVEROPS_HOME's MLflow store, and without one."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from recoverops.cli.main import main
from recoverops.detector import analyze_text
from recoverops.models.classifier import FailureModel, ModelConfig
from recoverops.models.combine import refine
from recoverops.settings import Settings
from recoverops.training.local_champion import save_copy
from recoverops.training.mlflow_model import load_alias
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


# --- the local copy of the champion: analyze without MLflow ------------------------------------

IMPORTS = """
import sys
from recoverops.cli.main import main
code = main(["analyze", "--json", sys.argv[1]])
# SQLAlchemy too: registering the other commands must not import the store (issue #14).
heavy = sorted(
    m for m in ("mlflow", "ray", "sklearn", "pandas", "sqlalchemy") if m in sys.modules
)
sys.stderr.write("imported: " + " ".join(heavy) + "\\n")
sys.exit(code)
"""


def analyze_in_subprocess(
    home: Path, *, model_name: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """(the analysis, the heavy modules the process imported) of FLAKE8 with `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env["RECOVEROPS_HOME"] = str(home)
    if model_name is not None:
        env["RECOVEROPS_MODEL_NAME"] = model_name
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS, FLAKE8],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    imported = done.stderr.splitlines()[-1].removeprefix("imported:").split()
    return json.loads(done.stdout), imported


def test_without_a_champion_analyze_imports_neither_mlflow_nor_ray_nor_sklearn(
    tmp_path: Path, trained_home: tuple[Path, str]
) -> None:
    analysis, imported = analyze_in_subprocess(tmp_path / "clean")
    assert analysis["decided_by"] == "rules" and imported == []
    # A store that exists but has no champion of the configured name: still none of them.
    home, _ = trained_home
    analysis, imported = analyze_in_subprocess(home, model_name="never-trained")
    assert analysis["decided_by"] == "rules" and imported == []


def test_with_a_champion_analyze_uses_its_portable_copy_without_mlflow_or_sklearn(
    trained_home: tuple[Path, str],
) -> None:
    home, model = trained_home
    first, _ = analyze_in_subprocess(home)  # keeps a copy if this home had none yet
    again, imported = analyze_in_subprocess(home)
    assert again["decided_by"] == first["decided_by"] == f"model:{model}"
    assert again == first
    assert imported == []  # neither mlflow, ray, sklearn, pandas nor sqlalchemy
    manifest = json.loads(next((home / "champion").glob("*.json")).read_text())
    assert manifest["version"] == model.rsplit("/", 1)[1]
    assert manifest["format"] == "portable"
    # The same verdict as the champion itself gives, loaded through MLflow with scikit-learn.
    loaded = load_alias(Settings(home=home))
    assert loaded is not None
    rules = analyze_text(Path(FLAKE8).read_text("utf-8"))
    direct = refine(rules, loaded.model, name=model)
    assert again["category"] == direct.category.value
    assert again["confidence"] == pytest.approx(direct.confidence, abs=1e-9)
    assert again["anomaly"] == pytest.approx(direct.anomaly, abs=1e-9)


def copy_files(home: Path) -> tuple[Path, Path]:
    manifest = next((home / "champion").glob("*.json"))
    return manifest.with_suffix(".npz"), manifest


def test_a_copy_that_does_not_match_its_checksum_is_replaced_from_mlflow(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    trained_home: tuple[Path, str],
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    shutil.copytree(trained_home[0], home)
    analyze(capsys, monkeypatch, home, "--json", FLAKE8)  # makes sure a copy exists
    pickled, _ = copy_files(home)
    pickled.write_bytes(pickled.read_bytes() + b"tampered")
    code, out, _ = analyze(capsys, monkeypatch, home, "--json", FLAKE8)
    assert code == 0 and json.loads(out)["decided_by"] == f"model:{trained_home[1]}"
    assert not pickled.read_bytes().endswith(b"tampered")  # loaded from MLflow, copied again


def plant(home: Path, suffix: str, data: bytes, **manifest: str) -> Path:
    """Replace the copy by `data` in file `suffix`, its manifest vouching for it."""
    _, described = copy_files(home)
    planted = described.with_suffix(suffix)
    planted.write_bytes(data)
    fields = json.loads(described.read_text()) | manifest
    fields["sha256"] = hashlib.sha256(data).hexdigest()
    described.write_text(json.dumps(fields))
    return planted


def test_a_pickled_copy_that_names_other_code_is_refused(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    trained_home: tuple[Path, str],
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    shutil.copytree(trained_home[0], home)
    analyze(capsys, monkeypatch, home, "--json", FLAKE8)
    # Any class outside the model's libraries.
    plant(home, ".pickle", pickle.dumps(Path), format="pickle")
    code, out, err = analyze(capsys, monkeypatch, home, "--json", FLAKE8)
    assert code == 0 and json.loads(out)["decided_by"] == f"model:{trained_home[1]}"
    assert "pathlib.Path: refused" in err
    assert json.loads(copy_files(home)[1].read_text())["format"] == "portable"  # copied again


def test_a_portable_copy_that_cannot_be_read_is_replaced_from_mlflow(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    trained_home: tuple[Path, str],
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    shutil.copytree(trained_home[0], home)
    analyze(capsys, monkeypatch, home, "--json", FLAKE8)
    portable = plant(home, ".npz", b"PK\x03\x04 not an archive")
    code, out, err = analyze(capsys, monkeypatch, home, "--json", FLAKE8)
    assert code == 0 and json.loads(out)["decided_by"] == f"model:{trained_home[1]}"
    assert "cannot be used (not a portable model" in err
    replaced = portable.read_bytes()
    assert replaced.startswith(b"PK") and b"not an archive" not in replaced


def test_verbose_says_how_the_champion_runs(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    trained_home: tuple[Path, str],
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    shutil.copytree(trained_home[0], home)
    analyze(capsys, monkeypatch, home, "--json", FLAKE8)
    code, _, err = analyze(capsys, monkeypatch, home, "--json", "--verbose", FLAKE8)
    assert code == 0
    assert f"champion {trained_home[1]}: its portable local copy, scored with numpy" in err
    # A learner the portable scorer cannot express (a tree ensemble) keeps the pickled copy, and
    # verbose says so; the verdict still comes from the champion.
    frame = corpus_frame(tmp_path / "corpus")
    boosting = FailureModel(ModelConfig(learner="boosting")).fit(frame, frame["label"])
    version = trained_home[1].rsplit("/", 1)[1]
    save_copy(Settings(home=home), model=boosting, version=version)
    assert json.loads(copy_files(home)[1].read_text())["format"] == "pickle"
    code, out, err = analyze(capsys, monkeypatch, home, "--json", "--verbose", FLAKE8)
    assert code == 0 and json.loads(out)["decided_by"] == f"model:{trained_home[1]}"
    assert "its learner cannot be exported (the HistGradientBoostingClassifier learner)" in err
    assert "its pickled local copy runs with scikit-learn" in err


def test_verbose_says_when_the_rules_answer_alone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, _, err = analyze(capsys, monkeypatch, tmp_path / "home", "-v", "--json", FLAKE8)
    assert code == 0 and "no @champion of " in err and "the rules answer" in err
