"""The notebooks run top to bottom on the small fixture corpus, with a champion in the registry
and a labelled incident in the store, and show what they promise; committed without outputs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.taxonomy import Category
from recoverops.training.run import train
from tests.ml_corpus import BUILD_LABELS, store_case_incident, write_case_corpus

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ("01_explore.ipynb", "02_train_and_compare.ipynb", "03_errors_per_class.ipynb")
CELL_TIMEOUT = 180  # seconds; the machine may be busy


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment the notebooks read: the fixture corpus, and a home whose MLflow store has
    a champion (trained on that corpus) and whose incident store has one labelled incident."""
    root = tmp_path_factory.mktemp("lab")
    corpus = write_case_corpus(root / "corpus")
    settings = Settings(home=root / "home", database_url=None, redis_url=None, mlflow_uri=None)
    result = train(settings, data_dirs=(corpus,))
    assert result.promoted
    store = Store.open(settings)
    try:
        incident = store_case_incident(
            store, "plain-flake8", target="github:reviewdog/errorformat:ci/lint"
        )
        store.add_feedback(incident, category=Category.BUILD_LINT, fix_outcome=None, operator="sre")
    finally:
        store.close()
    with pytest.MonkeyPatch.context() as env:
        for name in [k for k in os.environ if k.startswith("RECOVEROPS_")]:
            env.delenv(name)
        env.setenv("RECOVEROPS_NOTEBOOK_DATA", str(corpus))
        env.setenv("RECOVEROPS_HOME", str(settings.home))
        yield {"corpus": str(corpus), "version": result.model_version}


def read(name: str) -> nbformat.NotebookNode:
    # nbformat's read is unannotated.
    notebook: nbformat.NotebookNode = nbformat.read(  # type: ignore[no-untyped-call]
        NOTEBOOKS / name, as_version=4
    )
    return notebook


def execute(name: str) -> nbformat.NotebookNode:
    notebook = read(name)
    NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute()
    errors = [
        f"{output['ename']}: {output['evalue']}"
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]
    assert not errors, f"{name} failed: {errors}"
    return notebook


def shown(notebook: nbformat.NotebookNode, tag: str) -> str:
    """Everything the cell tagged `tag` printed or displayed (plain text and markdown)."""
    (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    parts: list[str] = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        data: dict[str, Any] = output.get("data", {})
        parts += [data[kind] for kind in ("text/plain", "text/markdown") if kind in data]
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_without_outputs(name: str) -> None:
    notebook = read(name)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_explore_shows_the_card_the_balance_the_signatures_and_the_rules_confusion(
    lab: dict[str, str],
) -> None:
    notebook = execute("01_explore.ipynb")

    assert lab["corpus"] in shown(notebook, "setup")
    assert "1 labelled incidents" in shown(notebook, "incidents")
    card = shown(notebook, "card")
    assert "21 examples from" in card  # 20 corpus logs and the labelled incident
    balance = shown(notebook, "balance")
    signatures = shown(notebook, "signatures")
    for label in BUILD_LABELS:
        assert f"| {label} |" in card
        assert label in balance
        assert label in signatures
    assert "flake8.violation" in signatures
    assert "rules agree with the label on" in shown(notebook, "rules-confusion")


def test_train_and_compare_tables_rules_model_combined_and_the_champion_per_class(
    lab: dict[str, str],
) -> None:
    notebook = execute("02_train_and_compare.ipynb")

    assert f"version {lab['version']}" in shown(notebook, "champion")
    table = shown(notebook, "f1-table").splitlines()
    assert table[0].split() == ["rules", "model", "combined", "champion"]
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    assert set(rows) == {*BUILD_LABELS, "macro"}
    for scores in rows.values():
        assert len(scores) == 4 and all(0.0 <= float(f1) <= 1.0 for f1 in scores)


def test_errors_per_class_judges_the_champion_on_every_held_out_class(
    lab: dict[str, str],
) -> None:
    notebook = execute("03_errors_per_class.ipynb")

    assert f"judging champion version {lab['version']}" in shown(notebook, "predict")
    rows = {
        line.split()[0]: line.split()[1:]
        for line in shown(notebook, "errors-per-class").splitlines()
        if line.split() and line.split()[0] in BUILD_LABELS
    }
    assert set(rows) == set(BUILD_LABELS)
    errors = {label: int(columns[1]) for label, columns in rows.items()}
    misclassified = shown(notebook, "misclassified")
    for label, count in errors.items():
        assert (f"### {label}: {count} wrong" in misclassified) == (count > 0)
    if not any(errors.values()):
        assert "no validation example is misclassified" in misclassified
