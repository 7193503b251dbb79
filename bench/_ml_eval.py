"""Shared pieces of the ML benchmarks: loading the labelled corpus, scoring predictions.

Scores are over the four build classes the corpora label (`BUILD_LABELS`): macro-F1, per-class
F1, and the expected calibration error (ECE) of the top class's confidence.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from recoverops.training.datasets import BUILD_LABELS, DatasetError, corpus_examples, featurize
from recoverops.training.evaluate import expected_calibration_error

LABELS: tuple[str, ...] = BUILD_LABELS
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load_corpus(data: Path, *, workers: int = 2) -> pd.DataFrame:
    """Every log of the data folder run through the detector; exits with a message, not a
    traceback, when the folder holds no corpus."""
    if not (data / "bugswarm" / "index.csv").is_file():
        print(
            f"no corpus at {data} (expected bugswarm/index.csv below it): pass --data DIR",
            file=sys.stderr,
        )
        raise SystemExit(2)
    try:
        frame: pd.DataFrame = featurize(corpus_examples(data), workers=workers)
    except DatasetError as error:
        print(f"cannot read the corpus: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    return frame


def score(gold: list[str], predicted: list[str], confidence: np.ndarray) -> dict[str, Any]:
    per_class = f1_score(gold, predicted, labels=list(LABELS), average=None, zero_division=0.0)
    correct = np.asarray([g == p for g, p in zip(gold, predicted, strict=True)])
    return {
        "n": len(gold),
        "macro_f1": float(np.mean(per_class)),
        "accuracy": float(correct.mean()),
        "ece": expected_calibration_error(correct, confidence),
        "per_class_f1": {c: float(f) for c, f in zip(LABELS, per_class, strict=True)},
    }


def median_scores(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over runs (seeds or repeats), with the spread of macro-F1."""
    macro = [r["macro_f1"] for r in runs]
    return {
        "runs": len(runs),
        "n": runs[0]["n"],
        "macro_f1": float(np.median(macro)),
        "macro_f1_min": float(np.min(macro)),
        "macro_f1_max": float(np.max(macro)),
        "accuracy": float(np.median([r["accuracy"] for r in runs])),
        "ece": float(np.median([r["ece"] for r in runs])),
        "per_class_f1": {c: float(np.median([r["per_class_f1"][c] for r in runs])) for c in LABELS},
    }
