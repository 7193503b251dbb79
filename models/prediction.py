"""What a learned model answers for one failure, and what any model that answers must offer.

Kept apart from `models.classifier` (scikit-learn, pandas) so that code which only reads or
applies a verdict, `recoverops analyze` with the portable champion among it, imports neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


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
