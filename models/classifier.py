"""The learned failure classifier: feature rows in, calibrated category probabilities out.

One scikit-learn pipeline: each text column through its own vectoriser (character n-grams on the
masked chunk, words on the chunk, the step and the signature tokens), the rules' scores as
numbers, a learner (`models.learners`), and probability calibration fitted by cross-validation.
The novelty score (`models.anomaly`) is fitted on the same rows and given with every prediction.

The defaults are what `bench/ml_quality.py` measured best on projects never seen in training:
the linear learner with the rules' scores and verdict as features, temperature scaling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from threadpoolctl import threadpool_limits

from .anomaly import NoveltyScorer
from .features import FEATURE_COLUMNS
from .learners import Learner, build_learner
from .prediction import Prediction, predictions

__all__ = ["Calibration", "FailureModel", "ModelConfig", "Prediction"]

# "temperature" (one parameter over the learner's logits) keeps the learner's ranking, so its
# macro-F1, and was the best calibrated of the three on held-out projects; "none" uses the
# learner's own probabilities (bench/ml_quality.py).
Calibration = Literal["temperature", "sigmoid", "isotonic", "none"]


@dataclass
class ModelConfig:
    learner: Learner = "linear"
    # Whether the rules' scores are features (the stacked combination) or not (model alone).
    use_rules: bool = True
    C: float = 4.0
    calibration: Calibration = "temperature"
    calibration_folds: int = 3
    random_state: int = 0


def _one_thread() -> threadpool_limits:
    """BLAS and OpenMP on one thread. Their spinning workers on a busy 2-core machine made a fit
    4x (linear) to 200x (boosting) slower than one thread does (measured with other processes
    running); the model runs in worker pools that already use every core."""
    return threadpool_limits(limits=1)


def _features(rows: pd.DataFrame) -> pd.DataFrame:
    """The feature columns of `rows`, or ValueError naming the ones missing."""
    missing = [c for c in FEATURE_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack the feature columns {', '.join(missing)}")
    return rows[list(FEATURE_COLUMNS)]


class FailureModel:
    """fit / predict_proba / predict over frames holding `features.FEATURE_COLUMNS`."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self.classes_: tuple[str, ...] = ()
        self._estimator: Any = None
        self._novelty: NoveltyScorer | None = None

    def fit(self, rows: pd.DataFrame, labels: Sequence[str]) -> FailureModel:
        y = np.asarray(list(labels), dtype=object)
        features = _features(rows)
        if len(y) != len(rows):
            raise ValueError(f"{len(rows)} rows but {len(y)} labels")
        classes = sorted(set(y))
        if len(classes) < 2:
            raise ValueError("training needs examples of at least two classes")
        smallest = min(int((y == c).sum()) for c in classes)
        learner = build_learner(
            self.config.learner,
            use_rules=self.config.use_rules,
            C=self.config.C,
            random_state=self.config.random_state,
        )
        # Each calibration fold needs every class in its training part; with fewer examples of
        # the smallest class than folds, the learner's own probabilities are used. The
        # calibrator is fitted on out-of-fold predictions and the learner refitted on every row
        # (ensemble=False): an ensemble of fold models, each fitted on two thirds of the few
        # rows there are, lost 0.03-0.04 macro-F1 in grouped CV.
        folds = min(self.config.calibration_folds, smallest)
        model: Any = learner
        if self.config.calibration != "none" and folds >= 2:
            model = CalibratedClassifierCV(
                learner, method=self.config.calibration, cv=folds, ensemble=False
            )
        with _one_thread():
            self._estimator = model.fit(features, y)
        self.classes_ = tuple(str(c) for c in self._estimator.classes_)
        self._novelty = NoveltyScorer().fit(rows)
        return self

    @property
    def calibrated(self) -> bool:
        """Whether the probabilities come through a fitted calibrator."""
        return isinstance(self._estimator, CalibratedClassifierCV)

    def predict_proba(self, rows: pd.DataFrame) -> np.ndarray:
        if self._estimator is None:
            raise RuntimeError("the model is not fitted")
        features = _features(rows)
        with _one_thread():
            proba: np.ndarray = self._estimator.predict_proba(features)
        return proba

    def predict_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """`predict` on feature rows given as mappings (`models.prediction.RowModel`)."""
        return self.predict(pd.DataFrame([dict(row) for row in rows]))

    def predict(self, rows: pd.DataFrame) -> list[Prediction]:
        if self._novelty is None:
            raise RuntimeError("the model is not fitted")
        proba = self.predict_proba(rows)
        novelty = self._novelty.score(rows)
        return predictions(self.classes_, proba, novelty)
