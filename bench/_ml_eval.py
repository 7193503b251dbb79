"""Shared pieces of the ML benchmarks: loading the labelled corpus, scoring predictions.

The corpus is the shared BugSwarm logs (four build classes) and the repository's labelled
deploy / infra / security texts (`corpus/`, twelve classes and `unknown`): every taxonomy id.
Scores: macro-F1 over the classes the judged rows are labelled with, per-class F1, and the
expected calibration error (ECE) of the top class's confidence.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from recoverops.taxonomy import Category
from recoverops.training.datasets import DatasetError, corpus_examples, featurize
from recoverops.training.evaluate import expected_calibration_error

LABELS: tuple[str, ...] = tuple(c.value for c in Category)
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_TEXTS = Path(__file__).resolve().parents[1] / "corpus"


def load_corpus(data: Path, texts: Path = DEFAULT_TEXTS, *, workers: int = 2) -> pd.DataFrame:
    """Every log of the data folder and every labelled text run through the detector; exits
    with a message, not a traceback, when the folder holds no corpus."""
    if not (data / "bugswarm" / "index.csv").is_file():
        print(
            f"no corpus at {data} (expected bugswarm/index.csv below it): pass --data DIR",
            file=sys.stderr,
        )
        raise SystemExit(2)
    try:
        examples = corpus_examples(data) + corpus_examples(texts)
        frame: pd.DataFrame = featurize(examples, workers=workers)
    except DatasetError as error:
        print(f"cannot read the corpus: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    return frame


def score(gold: list[str], predicted: list[str], confidence: np.ndarray) -> dict[str, Any]:
    per_class = f1_score(gold, predicted, labels=list(LABELS), average=None, zero_division=0.0)
    correct = np.asarray([g == p for g, p in zip(gold, predicted, strict=True)])
    present = [i for i, c in enumerate(LABELS) if c in set(gold)]
    return {
        "n": len(gold),
        "macro_f1": float(np.mean(per_class[present])),
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
