"""FailureModel on the fixture corpus: shapes, probabilities, calibration, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV

from recoverops.models.classifier import FailureModel, ModelConfig, Prediction
from recoverops.models.features import FEATURE_COLUMNS
from recoverops.models.learners import LEARNERS


@pytest.fixture(scope="module")
def fitted(case_rows: pd.DataFrame) -> FailureModel:
    return FailureModel().fit(case_rows, list(case_rows["label"]))


def test_classes_are_the_labels_seen(fitted: FailureModel, case_rows: pd.DataFrame) -> None:
    assert fitted.classes_ == tuple(sorted(set(case_rows["label"])))


def test_probabilities_have_one_column_per_class_and_sum_to_one(
    fitted: FailureModel, case_rows: pd.DataFrame
) -> None:
    proba = fitted.predict_proba(case_rows)
    assert proba.shape == (len(case_rows), len(fitted.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert ((proba >= 0) & (proba <= 1)).all()


def test_predictions_agree_with_the_probabilities(
    fitted: FailureModel, case_rows: pd.DataFrame
) -> None:
    proba = fitted.predict_proba(case_rows)
    predictions = fitted.predict(case_rows)
    assert len(predictions) == len(case_rows)
    for p, row in zip(predictions, proba, strict=True):
        assert isinstance(p, Prediction)
        assert p.category == fitted.classes_[int(row.argmax())]
        assert p.confidence == pytest.approx(row.max())
        assert set(p.probabilities) == set(fitted.classes_)
        assert 0.0 <= p.anomaly <= 1.0


def test_fits_its_training_rows(fitted: FailureModel, case_rows: pd.DataFrame) -> None:
    predicted = [p.category for p in fitted.predict(case_rows)]
    accuracy = np.mean([p == g for p, g in zip(predicted, case_rows["label"], strict=True)])
    assert accuracy >= 0.9


def test_the_default_model_is_calibrated(fitted: FailureModel) -> None:
    assert fitted.calibrated
    assert fitted.config.calibration == "temperature"
    assert isinstance(fitted._estimator, CalibratedClassifierCV)
    assert fitted._estimator.method == "temperature"
    # One calibrator over a learner refitted on every row, not an ensemble of fold models.
    assert len(fitted._estimator.calibrated_classifiers_) == 1


@pytest.mark.parametrize(
    "config", [ModelConfig(calibration_folds=1), ModelConfig(calibration="none")]
)
def test_no_calibration_leaves_the_learners_probabilities(
    case_rows: pd.DataFrame, config: ModelConfig
) -> None:
    model = FailureModel(config).fit(case_rows, case_rows["label"])
    assert not model.calibrated
    np.testing.assert_allclose(model.predict_proba(case_rows).sum(axis=1), 1.0, atol=1e-9)


def test_temperature_scaling_keeps_the_learners_ranking(case_rows: pd.DataFrame) -> None:
    calibrated = FailureModel().fit(case_rows, case_rows["label"]).predict_proba(case_rows)
    raw = (
        FailureModel(ModelConfig(calibration="none"))
        .fit(case_rows, case_rows["label"])
        .predict_proba(case_rows)
    )
    assert (calibrated.argmax(axis=1) == raw.argmax(axis=1)).all()
    assert not np.allclose(calibrated, raw)


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize(("use_rules", "calibration"), [(True, "sigmoid"), (False, "isotonic")])
def test_every_learner_fits_and_predicts(
    case_rows: pd.DataFrame, learner: str, use_rules: bool, calibration: str
) -> None:
    config = ModelConfig(learner=learner, use_rules=use_rules, calibration=calibration)
    model = FailureModel(config).fit(case_rows, case_rows["label"])
    proba = model.predict_proba(case_rows.head(7))
    assert model.calibrated
    assert proba.shape == (7, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)


def test_columns_beyond_the_features_are_ignored(
    fitted: FailureModel, case_rows: pd.DataFrame
) -> None:
    shuffled = case_rows[list(reversed(FEATURE_COLUMNS))].assign(extra="x")
    np.testing.assert_allclose(
        fitted.predict_proba(shuffled), fitted.predict_proba(case_rows), atol=1e-12
    )


def test_one_class_is_refused(case_rows: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="at least two classes"):
        FailureModel().fit(case_rows, ["build.test"] * len(case_rows))


def test_mismatched_lengths_are_refused(case_rows: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=f"{len(case_rows)} rows but 3 labels"):
        FailureModel().fit(case_rows, list(case_rows["label"])[:3])


def test_missing_feature_columns_are_named(fitted: FailureModel, case_rows: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="templates"):
        FailureModel().fit(case_rows.drop(columns=["templates"]), case_rows["label"])
    with pytest.raises(ValueError, match="rule_confidence"):
        fitted.predict_proba(case_rows.drop(columns=["rule_confidence"]))


def test_an_unknown_learner_is_refused(case_rows: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown learner 'forest'"):
        FailureModel(ModelConfig(learner="forest")).fit(case_rows, case_rows["label"])


def test_an_unfitted_model_refuses_to_predict(case_rows: pd.DataFrame) -> None:
    model = FailureModel()
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict_proba(case_rows)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict(case_rows)
    assert not model.calibrated
    assert model.classes_ == ()
