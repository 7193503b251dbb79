"""What a learned model answers for one failure, and what any model that answers must offer.

Kept apart from `models.classifier` (scikit-learn, pandas) so that code which only reads or
applies a verdict, `recoverops analyze` with the portable champion among it, imports neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class Prediction:
    category: str
    confidence: float
    probabilities: dict[str, float]
    anomaly: float


class RowModel(Protocol):
    """A fitted model that predicts from feature rows (`models.features.feature_row`)."""

    classes_: tuple[str, ...]

    def predict_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]: ...


def predictions(
    classes: Sequence[str], proba: np.ndarray, anomaly: Sequence[float] | np.ndarray
) -> list[Prediction]:
    """One Prediction per row of `proba` (probabilities in the order of `classes`): the most
    probable class, its probability, all of them, and the row's novelty score."""
    import numpy as np  # here: its callers have it loaded, a reader of verdicts need not

    answered = []
    for p, novelty in zip(proba, anomaly, strict=True):
        best = int(np.argmax(p))
        answered.append(
            Prediction(
                category=classes[best],
                confidence=float(p[best]),
                probabilities={c: float(v) for c, v in zip(classes, p, strict=True)},
                anomaly=float(novelty),
            )
        )
    return answered
