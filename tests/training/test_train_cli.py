"""`recoverops train` when the data cannot train a model: exit 1 and one clear line on stderr,
never a traceback, and nothing logged to MLflow; and corpora with the incident store's labels
(`--incidents`). (The promotion flow: test_train_embedded.py.)"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from recoverops.cli.main import main
from recoverops.settings import Settings
from recoverops.sides import side_of
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.ml_corpus import CASES, fixture_project, store_case_incident, write_case_corpus
from tests.serve.harness import unused_port

# Fixture cases the corpus above leaves out, labelled by an operator instead.
LABELLED_INCIDENTS = (
    ("travis-erlang-undefined-record-field", Category.BUILD_COMPILATION),
    ("travis-conda-packages-not-found", Category.BUILD_DEPENDENCY),
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECOVEROPS_HOME", str(tmp_path / "home"))
    for name in ("RECOVEROPS_MLFLOW_URI", "RECOVEROPS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def run_train(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["train", "--no-progress", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_missing_data_folder_is_exit_1_naming_it(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_train(capsys, "--data", str(tmp_path / "nowhere"))

    assert code == 1 and out == ""
    assert err == f"recoverops: cannot train: {tmp_path / 'nowhere'}: not a directory\n"
    assert not (home / "mlflow.db").exists()


def test_a_folder_without_a_corpus_is_exit_1_saying_what_was_expected(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "build.log").write_text("make: *** [all] Error 1\n")

    code, out, err = run_train(capsys, "--data", str(tmp_path / "logs"))

    assert code == 1 and out == ""
    assert "no corpus found (expected index.csv, build-failure-reason/" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_one_class_only_is_refused_before_any_run(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_case_corpus(tmp_path / "tests-only", labels=("build.test",))

    code, _, err = run_train(capsys, "--data", str(corpus), "--json")

    assert code == 1
    # Five cases, one of them on the test side, which training never reads.
    assert "every labelled example is build.test (4 examples)" in err
    assert "at least two classes" in err
    assert not (home / "mlflow.db").exists()


def test_unlabelled_examples_only_are_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_case_corpus(tmp_path / "corpus")
    index = corpus / "index.csv"
    with index.open(newline="", encoding="utf-8") as handle:
        rows = [{**row, "suggested_label": ""} for row in csv.DictReader(handle)]
    with index.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    code, _, err = run_train(capsys, "--data", str(corpus))

    assert code == 1
    # 20 cases, 4 of them on the test side, which training never reads.
    assert "no labelled examples among 16 found" in err


def test_no_validation_projects_is_refused_with_why(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_case_corpus(tmp_path / "corpus")
    index = corpus / "index.csv"
    with index.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # Two projects that are both on the dev side of the split.
    for i, row in enumerate(rows):
        row["project"] = ("pytorch/test-infra", "opentofu/opentofu")[i % 2]
    with index.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    code, _, err = run_train(capsys, "--data", str(corpus))

    assert code == 1
    assert "the validation side of the project split is empty" in err
    assert "20 labelled examples from 2 projects" in err


def test_the_empty_incident_store_is_the_default_and_has_nothing_to_train_on(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_train(capsys)

    assert code == 1 and out == ""
    assert err == (
        "recoverops: cannot train: incident store: no labelled examples among 0 found; "
        "training needs examples with a known category\n"
    )
    assert (home / "recoverops.db").is_file()  # the store the settings name was opened


def test_bad_usage_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["train", "--data"])
    assert exited.value.code == 2
    assert "--data: expected one argument" in capsys.readouterr().err


def test_progress_goes_to_stderr_not_the_json(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_case_corpus(tmp_path / "tests-only", labels=("build.test",))

    code = main(["train", "--data", str(corpus), "--json"])
    out, err = capsys.readouterr()

    assert code == 1 and out == ""
    # The test side's case is never read.
    assert "featurizing logs: 4/4 in" in err


def test_an_unreachable_mlflow_server_is_exit_1_without_its_password(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with unused_port() as port:
        pass  # nothing listens there
    monkeypatch.setenv("RECOVEROPS_MLFLOW_URI", f"http://ops:s3cret@127.0.0.1:{port}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    corpus = write_case_corpus(tmp_path / "corpus")

    code, out, err = run_train(capsys, "--data", str(corpus))

    assert code == 1 and out == ""
    assert err.startswith(f"recoverops: MLflow at http://ops:***@127.0.0.1:{port} failed: ")
    assert "Connection refused" in err
    assert "s3cret" not in err and "Traceback" not in err


def test_incidents_add_the_operators_labels_to_the_corpora(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_case_corpus(tmp_path / "corpus", labels=("build.test", "build.lint"))
    settings = Settings()
    store = Store.open(settings)
    try:
        for number, (case, category) in enumerate(LABELLED_INCIDENTS):
            # Incidents of dev-side projects: training reads them.
            project = fixture_project("dev", 1000 + number)
            incident = store_case_incident(store, case, target=f"github:{project}:ci/build")
            store.add_feedback(incident, category=category, fix_outcome=None, operator="sre")
    finally:
        store.close()

    code, out, err = run_train(capsys, "--data", str(corpus), "--incidents", "--json")

    assert code == 0, err
    card = json.loads(out)["card"]
    # Of the 10 cases, the 2 on the test side are never read.
    assert card["by_source"] == {"bugswarm": 8, "incidents": len(LABELLED_INCIDENTS)}
    assert set(card["by_class"]) == {
        "build.test",
        "build.lint",
        "build.compilation",
        "build.dependency",
    }


def test_incidents_without_labels_leave_a_one_class_corpus_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_case_corpus(tmp_path / "tests-only", labels=("build.test",))

    code, _, err = run_train(capsys, "--data", str(corpus), "--incidents")

    assert code == 1
    assert f"{corpus} and the incident store: every labelled example is build.test" in err


def test_training_never_reads_the_test_side(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The test side's logs are gone: a run that opened one would stop with 'log(s) missing'."""
    corpus = write_case_corpus(tmp_path / "corpus")
    with (corpus / "index.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    test_side = [row for row in rows if side_of(row["project"]) == "test"]
    assert test_side
    for row in test_side:
        (corpus / row["artifact"] / "failing.log").unlink()

    code, out, err = run_train(capsys, "--data", str(corpus), "--json")

    assert code == 0, err
    card = json.loads(out)["card"]
    assert card["by_side"]["test"]["examples"] == 0
    assert card["examples"] == len(rows) - len(test_side)
    assert card["by_side"]["dev"]["examples"] and card["by_side"]["validation"]["examples"]


def test_labelled_texts_are_a_corpus_split_by_the_group_they_came_from(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The repository's `corpus/` layout: `<category>/labels.csv` naming each text's file and
    group. The real fixture cases of the categories with three or more become texts, their
    groups spread over the sides as the fixture corpus spreads them, and a model trains on them."""
    texts = tmp_path / "texts"
    turns: dict[str, int] = {}
    cases = {
        case: yaml.safe_load((case / "case.yaml").read_text("utf-8"))["category"]
        for case in sorted(CASES.iterdir())
    }
    counts = Counter(cases.values())
    for case, category in cases.items():
        if counts[category] < 3:
            continue
        folder = texts / category
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{case.name}.txt").write_bytes((case / "log.txt").read_bytes())
        turn = turns[category] = turns.get(category, -1) + 1
        new = not (folder / "labels.csv").exists()
        with (folder / "labels.csv").open("a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["file", "category", "group", "source", "licence"])
            group = fixture_project(("dev", "validation", "dev")[turn % 3], 500 + turn)
            writer.writerow([f"{case.name}.txt", category, group, "", ""])

    code, out, err = run_train(capsys, "--data", str(texts), "--json")

    assert code == 0, err
    card = json.loads(out)["card"]
    assert card["by_source"] == {"texts": card["examples"]}
    assert {"build.test", "deploy.network", "infra.container"} <= set(card["by_class"])


def test_a_labelled_text_of_an_unknown_category_is_refused_with_its_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "texts" / "infra.container"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("Back-off restarting failed container\n")
    (folder / "labels.csv").write_text("file,category,group\na.txt,infra.containers,o/n\n")

    code, out, err = run_train(capsys, "--data", str(tmp_path / "texts"))

    assert code == 1 and out == ""
    assert f"{folder / 'labels.csv'}:2: unknown category 'infra.containers'" in err
