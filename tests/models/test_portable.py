"""The portable champion (`models.portable`) gives the fitted pipeline's probabilities and
novelty scores to 1e-9, without scikit-learn, on the training rows and on rows it never saw;
what it cannot express is refused, and a damaged file is named as such."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recoverops.detector import analyze_text
from recoverops.errors import RecoverOpsError
from recoverops.models.classifier import Calibration, FailureModel, ModelConfig
from recoverops.models.export import NotPortable, export_model
from recoverops.models.features import feature_row
from recoverops.models.portable import DamagedCopy, PortableModel, loads

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases"


@pytest.fixture(scope="module")
def unseen_rows(case_rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Feature rows of every fixture case (most unlabelled, of categories the model never
    learned), and edge cases of text: empty, upper case, runs of whitespace, non-ASCII."""
    logs = sorted(CASES.glob("*/log.txt"))
    rows = [feature_row(analyze_text(path.read_text("utf-8"))) for path in logs]
    base = dict(case_rows.iloc[0][list(rows[0])])
    rows += [
        base | {"chunk": "", "templates": "", "step": "", "signatures": "", "log_format": ""},
        base | {"chunk": base["chunk"].upper(), "templates": base["templates"].upper()},
        base | {"chunk": "a  \t\n b\u00a0c  ", "templates": " \n\n x  y\tz "},
        base | {"chunk": "Fehler: Übersetzung fehlgeschlagen ✗ 失败", "templates": "Ünïcödé ✗"},
        base | {"rule_category": "no.such.category", "rule_confidence": 0.9},
    ]
    return rows


def assert_same(model: FailureModel, rows: list[dict[str, Any]]) -> PortableModel:
    portable = loads(export_model(model))
    frame = pd.DataFrame(rows)
    expected = model.predict_proba(frame)
    got = portable.predict_proba(rows)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        portable.anomaly(rows), model._novelty.score(frame), rtol=0, atol=1e-9
    )
    for mine, theirs in zip(portable.predict_rows(rows), model.predict(frame), strict=True):
        assert mine.category == theirs.category
        assert mine.confidence == pytest.approx(theirs.confidence, abs=1e-9)
    return portable


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(),  # the default: linear, the rules as features, temperature scaling
        ModelConfig(calibration="sigmoid"),
        ModelConfig(calibration="none"),
        ModelConfig(use_rules=False),
    ],
    ids=["temperature", "sigmoid", "uncalibrated", "without-rules"],
)
def test_the_portable_model_gives_the_pipelines_probabilities(
    config: ModelConfig, case_rows: pd.DataFrame, unseen_rows: list[dict[str, Any]]
) -> None:
    model = FailureModel(config).fit(case_rows, list(case_rows["label"]))
    training = [{str(k): v for k, v in r.items()} for r in case_rows.to_dict("records")]
    portable = assert_same(model, training + unseen_rows)
    assert portable.classes_ == model.classes_
    # Not everything is certain: the rows it never saw leave the comparison something to test.
    assert portable.predict_proba(unseen_rows).max(axis=1).min() < 0.99


def test_two_classes(case_rows: pd.DataFrame, unseen_rows: list[dict[str, Any]]) -> None:
    two = case_rows[case_rows["label"].isin(["build.test", "build.lint"])]
    calibrations: tuple[Calibration, ...] = ("none", "temperature", "sigmoid")
    for calibration in calibrations:
        config = ModelConfig(calibration=calibration, calibration_folds=2)
        model = FailureModel(config).fit(two, list(two["label"]))
        assert len(model.classes_) == 2
        assert_same(model, unseen_rows)


def test_a_tree_ensemble_is_not_portable(case_rows: pd.DataFrame) -> None:
    model = FailureModel(ModelConfig(learner="boosting")).fit(case_rows, list(case_rows["label"]))
    with pytest.raises(NotPortable, match="HistGradientBoostingClassifier"):
        export_model(model)
    assert issubclass(NotPortable, RecoverOpsError) and issubclass(DamagedCopy, RecoverOpsError)


def test_isotonic_calibration_is_not_portable(case_rows: pd.DataFrame) -> None:
    model = FailureModel(ModelConfig(calibration="isotonic")).fit(
        case_rows, list(case_rows["label"])
    )
    with pytest.raises(NotPortable, match="isotonic"):
        export_model(model)


def test_a_damaged_file_is_refused_by_name(case_rows: pd.DataFrame) -> None:
    data = export_model(FailureModel().fit(case_rows, list(case_rows["label"])))
    for damaged in (b"", b"not a model", data[: len(data) // 2]):
        with pytest.raises(DamagedCopy):
            loads(damaged)


def test_scoring_imports_neither_sklearn_nor_pandas(
    case_rows: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(export_model(FailureModel().fit(case_rows, list(case_rows["label"]))))
    row = feature_row(analyze_text((CASES / "plain-flake8" / "log.txt").read_text("utf-8")))
    script = f"""
import sys
from pathlib import Path
from recoverops.models.portable import loads
from recoverops.models.features import validate_row
(p,) = loads(Path({str(path)!r}).read_bytes()).predict_rows([validate_row({row!r})])
heavy = [m for m in ("sklearn", "scipy", "pandas", "mlflow") if m in sys.modules]
print(p.category, heavy)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["build.lint", "[]"]
