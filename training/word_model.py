"""Fit the word model the package ships (`recoverops.classify.word_model`).

    python -m recoverops.training.word_model --data ../shared/data --data corpus \
        --out recoverops/classify/word_model.json

Reads every labelled example of the data folders through the detector's rules alone (the model
being fitted is not asked), fits a
class-balanced logistic regression on the dev side's word features, chooses its regularisation by
macro-F1 on the validation side, keeps the weights that matter (so the file stays small and the
model pure Python), and fits the softmax temperature on the validation side with the pruned model,
exactly as it will run; and it fits the map that calibrates the rules' own confidence on the
validation rows where the rules decided. The test side is never read (`recoverops.sides`).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from recoverops.classify.scorer import MIN_SCORE
from recoverops.classify.word_model import WordModel, word_features
from recoverops.errors import RecoverOpsError
from recoverops.models.features import RULE_SCORE_COLUMNS
from recoverops.sides import Side
from recoverops.taxonomy import Category

from .datasets import corpus_examples, featurize, labelled, split_sides, without_test_side

C_GRID = (0.3, 1.0, 3.0)
# A feature seen in fewer dev examples than this is a name, not a word of the trade.
MIN_EXAMPLES = 2
# Weights smaller than this change no verdict; dropping them keeps the file small.
MIN_WEIGHT = 0.05
TEMPERATURES = tuple(round(0.5 + 0.05 * i, 2) for i in range(51))


def frame_features(rows: pd.DataFrame) -> list[frozenset[str]]:
    """The word features of each featurized row (the columns `feature_row` writes)."""
    return [
        word_features(chunk, step, signatures.split())
        for chunk, step, signatures in zip(
            rows["chunk"], rows["step"], rows["signatures"], strict=True
        )
    ]


def _fit(
    features: list[frozenset[str]], labels: Sequence[str], *, c: float
) -> tuple[DictVectorizer, LogisticRegression]:
    seen = Counter(f for row in features for f in row)
    kept = [{f: 1 for f in row if seen[f] >= MIN_EXAMPLES} for row in features]
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(kept)
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit(matrix, list(labels))
    return vectorizer, model


def _pruned(
    vectorizer: DictVectorizer, model: LogisticRegression, about: dict[str, Any]
) -> WordModel:
    classes = tuple(Category(c) for c in model.classes_)
    weights: dict[str, dict[int, float]] = {}
    for column, feature in enumerate(vectorizer.feature_names_):
        kept = {
            i: round(float(w), 3)
            for i, w in enumerate(model.coef_[:, column])
            if abs(w) >= MIN_WEIGHT
        }
        if kept:
            weights[str(feature)] = kept
    intercept = tuple(round(float(b), 3) for b in model.intercept_)
    return WordModel(classes, intercept, weights, 1.0, about)


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / max(1, len(scores))


def _verdicts(model: WordModel, features: list[frozenset[str]]) -> list[dict[Category, float]]:
    return [model.probabilities(f) for f in features]


def _temperature(model: WordModel, features: list[frozenset[str]], gold: Sequence[str]) -> float:
    """The temperature with the lowest negative log-likelihood of the gold classes."""
    best, best_loss = 1.0, math.inf
    for t in TEMPERATURES:
        scaled = WordModel(model.classes, model.intercept, model.weights, t, model.about)
        loss = 0.0
        for probabilities, label in zip(_verdicts(scaled, features), gold, strict=True):
            loss -= math.log(max(1e-9, probabilities.get(Category(label), 0.0)))
        if loss < best_loss:
            best, best_loss = t, loss
    return best


def rules_calibration(rows: pd.DataFrame) -> tuple[float, float]:
    """(slope, intercept) of a logistic regression of "the rules were right" on the logit of
    their confidence, over the rows where the rules' top score passed their threshold."""
    decided = rows[rows[list(RULE_SCORE_COLUMNS)].max(axis=1) >= MIN_SCORE]
    right = (decided["rule_category"] == decided["label"]).to_numpy()
    if len(decided) < 10 or right.all() or not right.any():
        return 1.0, 0.0
    p = decided["rule_confidence"].clip(1e-4, 1 - 1e-4).to_numpy(float)
    model = LogisticRegression(C=1e4).fit(np.log(p / (1 - p)).reshape(-1, 1), right)
    return round(float(model.coef_[0][0]), 4), round(float(model.intercept_[0]), 4)


def fit_word_model(frame: pd.DataFrame) -> WordModel:
    """The word model fitted on `frame`'s dev rows and calibrated on its validation rows."""
    sides: dict[Side, pd.DataFrame] = split_sides(labelled(frame))
    dev, validation = sides["dev"], sides["validation"]
    if dev.empty or validation.empty:
        raise RecoverOpsError("the word model needs labelled dev and validation examples")
    dev_features, val_features = frame_features(dev), frame_features(validation)
    val_gold = [str(v) for v in validation["label"]]
    best: tuple[float, float, WordModel] | None = None
    for c in C_GRID:
        vectorizer, model = _fit(dev_features, [str(v) for v in dev["label"]], c=c)
        pruned = _pruned(vectorizer, model, {})
        predicted = [max(p, key=p.__getitem__).value for p in _verdicts(pruned, val_features)]
        score = macro_f1(val_gold, predicted)
        if best is None or score > best[0]:
            best = (score, c, pruned)
    assert best is not None
    score, c, chosen = best
    temperature = _temperature(chosen, val_features, val_gold)
    calibration = rules_calibration(validation)
    about = {
        "dev_examples": len(dev),
        "dev_projects": int(dev["project"].nunique()),
        "validation_examples": len(validation),
        "validation_macro_f1": round(score, 3),
        "C": c,
        "features": len(chosen.weights),
        "classes_by_dev_examples": {str(k): int(v) for k, v in dev["label"].value_counts().items()},
    }
    about["rules_calibration_rows"] = int(
        (validation[list(RULE_SCORE_COLUMNS)].max(axis=1) >= MIN_SCORE).sum()
    )
    return WordModel(
        chosen.classes, chosen.intercept, chosen.weights, temperature, about, calibration
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recoverops.training.word_model",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        found = (e for d in args.data for e in corpus_examples(d) if e.label is not None)
        examples = without_test_side(found)
        frame = featurize(examples, workers=args.workers, rules_only=True)
        model = fit_word_model(frame)
    except RecoverOpsError as error:
        sys.stderr.write(f"word model: {error}\n")
        return 1
    model.save(args.out)
    sys.stderr.write(
        f"word model: {model.about['features']} features, validation macro-F1 "
        f"{model.about['validation_macro_f1']}, temperature {model.temperature} -> {args.out}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
