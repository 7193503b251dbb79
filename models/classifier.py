"""The learned failure classifier: feature rows in, calibrated category probabilities out.

One scikit-learn pipeline: each text column through its own vectoriser (character n-grams on the
masked chunk, words on the chunk, the step and the signature tokens), the rules' scores as
numbers, a linear learner, and probability calibration fitted by cross-validation. The
novelty score (`models.anomaly`) is fitted on the same rows and given with every prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler

from .anomaly import NoveltyScorer
from .features import FEATURE_COLUMNS, RULE_SCORE_COLUMNS

Learner = Literal["linear"]


@dataclass(frozen=True, slots=True)
class Prediction:
    category: str
    confidence: float
    probabilities: dict[str, float]
    anomaly: float


@dataclass
class ModelConfig:
    learner: Learner = "linear"
    # Whether the rules' scores are features (the stacked combination) or not (model alone).
    use_rules: bool = True
    C: float = 4.0
    calibration_folds: int = 3
    random_state: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _columns(config: ModelConfig) -> ColumnTransformer:
    parts: list[tuple[str, Any, Any]] = [
        (
            "templates",
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(3, 5),
                min_df=2,
                sublinear_tf=True,
                max_features=60_000,
            ),
            "templates",
        ),
        (
            "chunk",
            TfidfVectorizer(
                token_pattern=r"[A-Za-z_][A-Za-z0-9_.:-]+",
                min_df=2,
                sublinear_tf=True,
                lowercase=True,
            ),
            "chunk",
        ),
        ("step", TfidfVectorizer(token_pattern=r"[A-Za-z_][A-Za-z0-9_.:-]+", min_df=1), "step"),
        ("format", TfidfVectorizer(token_pattern=r"\S+"), "log_format"),
    ]
    if config.use_rules:
        parts += [
            ("signatures", TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True), "signatures"),
            ("rule_scores", MaxAbsScaler(), list(RULE_SCORE_COLUMNS)),
        ]
    return ColumnTransformer(parts, sparse_threshold=1.0)


class FailureModel:
    """fit / predict_proba / predict over frames holding `features.FEATURE_COLUMNS`."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self.classes_: tuple[str, ...] = ()
        self._pipeline: Pipeline | None = None
        self._novelty: NoveltyScorer | None = None

    def fit(self, rows: pd.DataFrame, labels: Sequence[str]) -> FailureModel:
        y = np.asarray(list(labels), dtype=object)
        if len(y) != len(rows):
            raise ValueError(f"{len(rows)} rows but {len(y)} labels")
        classes = sorted(set(y))
        if len(classes) < 2:
            raise ValueError("training needs examples of at least two classes")
        smallest = min(int((y == c).sum()) for c in classes)
        learner = LogisticRegression(
            C=self.config.C,
            max_iter=2000,
            class_weight="balanced",
            random_state=self.config.random_state,
        )
        folds = min(self.config.calibration_folds, smallest)
        head: Any = (
            CalibratedClassifierCV(learner, method="sigmoid", cv=folds) if folds >= 2 else learner
        )
        self._pipeline = Pipeline([("features", _columns(self.config)), ("learner", head)])
        self._pipeline.fit(rows[list(FEATURE_COLUMNS)], y)
        self.classes_ = tuple(str(c) for c in self._pipeline.classes_)
        self._novelty = NoveltyScorer().fit(rows)
        return self

    def predict_proba(self, rows: pd.DataFrame) -> np.ndarray:
        if self._pipeline is None:
            raise RuntimeError("the model is not fitted")
        proba: np.ndarray = self._pipeline.predict_proba(rows[list(FEATURE_COLUMNS)])
        return proba

    def predict(self, rows: pd.DataFrame) -> list[Prediction]:
        if self._novelty is None:
            raise RuntimeError("the model is not fitted")
        proba = self.predict_proba(rows)
        novelty = self._novelty.score(rows)
        predictions = []
        for p, anomaly in zip(proba, novelty, strict=True):
            best = int(np.argmax(p))
            predictions.append(
                Prediction(
                    category=self.classes_[best],
                    confidence=float(p[best]),
                    probabilities={c: float(v) for c, v in zip(self.classes_, p, strict=True)},
                    anomaly=float(anomaly),
                )
            )
        return predictions
