"""How a model is judged on a held-out split: macro-F1, per-class scores, accuracy, calibration.

Every figure is over the classes the held-out split holds, so two models judged on the same split
(a challenger and the champion) are compared class by class on the same footing, even when one
of them was trained on classes the other never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from recoverops.models.classifier import FailureModel

# Equal-width confidence bins for the expected calibration error (the usual choice).
ECE_BINS = 10


@dataclass(frozen=True, slots=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One model on one held-out split."""

    # The held-out split's classes: what macro-F1 averages over.
    classes: tuple[str, ...]
    macro_f1: float
    accuracy: float
    ece: float
    per_class: dict[str, ClassScores]
    # Rows are the true class, columns the predicted one, both over `matrix_labels` (the
    # held-out classes, then any other class the model predicted).
    matrix_labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    examples: int

    def metrics(self) -> dict[str, float]:
        """Flat, MLflow-ready: `macro_f1`, `accuracy`, `ece`, and `f1.<class>`,
        `precision.<class>`, `recall.<class>` for each class."""
        flat = {"macro_f1": self.macro_f1, "accuracy": self.accuracy, "ece": self.ece}
        for name, scores in sorted(self.per_class.items()):
            flat[f"f1.{name}"] = scores.f1
            flat[f"precision.{name}"] = scores.precision
            flat[f"recall.{name}"] = scores.recall
        return flat

    def class_f1(self) -> dict[str, float]:
        return {name: scores.f1 for name, scores in self.per_class.items()}


def expected_calibration_error(
    correct: Sequence[bool], confidence: Sequence[float], *, bins: int = ECE_BINS
) -> float:
    """The mean gap between confidence and accuracy, weighted by how many predictions fall in
    each confidence bin: 0 is perfectly calibrated."""
    hits = np.asarray(correct, dtype=float)
    sure = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    if len(hits) != len(sure):
        raise ValueError(f"{len(hits)} outcomes but {len(sure)} confidences")
    if len(hits) == 0:
        return 0.0
    # Bin i holds confidences in (i/bins, (i+1)/bins]; a confidence of 0 goes to the first bin.
    which = np.clip(np.ceil(sure * bins).astype(int) - 1, 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            gap += float(chosen.sum()) * abs(float(hits[chosen].mean() - sure[chosen].mean()))
    return gap / len(hits)


def score(
    truth: Sequence[str], predicted: Sequence[str], confidence: Sequence[float]
) -> Evaluation:
    """Judge predictions against the true labels (a pure function of the three sequences)."""
    if not (len(truth) == len(predicted) == len(confidence)):
        raise ValueError("truth, predictions and confidences differ in length")
    if not truth:
        raise ValueError("nothing to evaluate: the held-out split is empty")
    classes = tuple(sorted(set(truth)))
    extra = tuple(sorted(set(predicted) - set(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(classes), zero_division=0.0
    )
    per_class = {
        name: ClassScores(float(p), float(r), float(f), int(n))
        for name, p, r, f, n in zip(classes, precision, recall, f1, support, strict=True)
    }
    matrix = confusion_matrix(truth, predicted, labels=[*classes, *extra])
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    return Evaluation(
        classes=classes,
        macro_f1=float(np.mean(f1)),
        accuracy=sum(correct) / len(correct),
        ece=expected_calibration_error(correct, confidence),
        per_class=per_class,
        matrix_labels=(*classes, *extra),
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        examples=len(truth),
    )


def evaluate(model: FailureModel, rows: pd.DataFrame) -> Evaluation:
    """`model` on the labelled `rows` (a held-out split)."""
    predictions = model.predict(rows)
    return score(
        [str(label) for label in rows["label"]],
        [p.category for p in predictions],
        [p.confidence for p in predictions],
    )
