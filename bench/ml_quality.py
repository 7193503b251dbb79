"""Quality of the learned failure classifier on the shared corpora, split by project.

The labelled BugSwarm logs (build.test, build.lint, build.compilation, build.dependency) and the
labelled deploy / infra / security texts of `corpus/` (the other twelve categories and `unknown`)
are run through the detector and split by project (`recoverops.sides`: dev, validation, test). For
each way of classifying, it prints macro-F1, per-class F1, accuracy and the expected calibration
error (ECE):

    validation  fit on the dev projects, judged on the validation projects (where learners are
                chosen and calibration fitted); the median over --seeds seeds
    test        fit on the dev projects, judged on the test projects: the figure to report, read
                in aggregate only
    cv          grouped cross-validation on the dev side only: StratifiedGroupKFold over
                projects (no project in two folds), --repeats shuffles; the pooled out-of-fold
                predictions of each repeat are scored, and the median over repeats is shown.

Ways of classifying: the rules alone (the detector's verdict and confidence); the model alone
(no rule features); the model with the rules' scores and verdict as features (stacking, the
default) with temperature, sigmoid, isotonic or no calibration; a 50/50 blend of the model
alone with the rules' verdict; gradient boosting; and the sentence-embedding model (when the
`embed` extra is installed).

It also measures the novelty score (`models.anomaly`): fitted on BugSwarm logs of the training
projects, the AUC with which it ranks logs of held-out projects, LogChunks logs of other
languages, and infrastructure error snippets above unseen logs of the training projects.

    .venv/bin/python bench/ml_quality.py [--data ../shared/data] [--corpus corpus] [--seeds 3]
                                         [--repeats 3] [--json] [--test]

The test side is only scored with --test: look at it to report, not while choosing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _embedding_learner
import numpy as np
import pandas as pd
from _ml_eval import DEFAULT_DATA, DEFAULT_TEXTS, LABELS, load_corpus, median_scores, score
from _novelty_eval import novelty_report
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedGroupKFold

from recoverops.models.classifier import FailureModel, ModelConfig
from recoverops.models.features import FEATURE_COLUMNS
from recoverops.training.datasets import labelled, split_sides

Verdicts = tuple[list[str], np.ndarray]  # predicted class and its confidence, per row


@dataclass(frozen=True)
class Way:
    name: str
    what: str
    run: Callable[[pd.DataFrame, pd.DataFrame, int], Verdicts]
    # Whether the seed changes the fit (the linear learner and its calibration folds do not).
    random: bool = False


def _aligned(proba: np.ndarray, classes: tuple[str, ...] | list[str]) -> np.ndarray:
    """Probabilities in LABELS order (a fold may lack a class: its column stays 0)."""
    out = np.zeros((len(proba), len(LABELS)))
    for j, c in enumerate(classes):
        out[:, LABELS.index(str(c))] = proba[:, j]
    return out


def _verdicts(proba: np.ndarray) -> Verdicts:
    best = proba.argmax(axis=1)
    return [LABELS[i] for i in best], proba.max(axis=1)


def rules(_train: pd.DataFrame, test: pd.DataFrame, _seed: int) -> Verdicts:
    return [str(c) for c in test["rule_category"]], test["rule_confidence"].to_numpy(float)


def rule_probabilities(rows: pd.DataFrame) -> np.ndarray:
    """The rules' verdict as a distribution: its confidence on its class, the rest spread evenly
    (uniform when the rules said something outside the four classes)."""
    out = np.full((len(rows), len(LABELS)), 1.0 / len(LABELS))
    for i, (category, confidence) in enumerate(
        zip(rows["rule_category"], rows["rule_confidence"], strict=True)
    ):
        if category in LABELS:
            out[i, :] = (1.0 - confidence) / (len(LABELS) - 1)
            out[i, LABELS.index(category)] = confidence
    return out


def _model_proba(config: ModelConfig, train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    model = FailureModel(config).fit(train, list(train["label"]))
    return _aligned(model.predict_proba(test), model.classes_)


def model_way(**options: Any) -> Callable[[pd.DataFrame, pd.DataFrame, int], Verdicts]:
    def run(train: pd.DataFrame, test: pd.DataFrame, seed: int) -> Verdicts:
        return _verdicts(_model_proba(ModelConfig(random_state=seed, **options), train, test))

    return run


def blend(train: pd.DataFrame, test: pd.DataFrame, seed: int) -> Verdicts:
    alone = _model_proba(ModelConfig(use_rules=False, random_state=seed), train, test)
    return _verdicts(0.5 * alone + 0.5 * rule_probabilities(test))


def embedding_way(*, use_rules: bool) -> Callable[[pd.DataFrame, pd.DataFrame, int], Verdicts]:
    def run(train: pd.DataFrame, test: pd.DataFrame, seed: int) -> Verdicts:
        learner = _embedding_learner.embedding_learner(use_rules=use_rules, random_state=seed)
        y = train["label"].to_numpy(object)
        smallest = int(train["label"].value_counts().min())
        model = CalibratedClassifierCV(
            learner, method="temperature", cv=min(3, smallest), ensemble=False
        )
        model.fit(train[list(FEATURE_COLUMNS)], y)
        proba = model.predict_proba(test[list(FEATURE_COLUMNS)])
        return _verdicts(_aligned(proba, list(model.classes_)))

    return run


def ways(*, with_embedding: bool) -> list[Way]:
    found = [
        Way("rules", "rules alone (detector verdict)", rules),
        Way("model", "model alone: linear, no rule features", model_way(use_rules=False)),
        Way("stacked", "combined: linear + rules' scores and verdict (default)", model_way()),
        Way(
            "stacked-sigmoid",
            "combined, sigmoid calibration instead of temperature",
            model_way(calibration="sigmoid"),
        ),
        Way(
            "stacked-isotonic",
            "combined, isotonic calibration instead of temperature",
            model_way(calibration="isotonic"),
        ),
        Way(
            "stacked-uncalibrated",
            "combined, the learner's own probabilities",
            model_way(calibration="none"),
        ),
        Way("blend", "combined: 0.5 model alone + 0.5 rules' verdict", blend),
        Way(
            "boosting",
            "gradient boosting (SVD-48 + rules' scores and verdict)",
            model_way(learner="boosting"),
            random=True,
        ),
        Way(
            "boosting-alone",
            "gradient boosting, no rule features",
            model_way(learner="boosting", use_rules=False),
            random=True,
        ),
    ]
    if with_embedding:
        found += [
            Way(
                "embedding",
                "MiniLM embedding + rules' scores and verdict, linear",
                embedding_way(use_rules=True),
            ),
            Way(
                "embedding-alone",
                "MiniLM embedding, no rule features",
                embedding_way(use_rules=False),
            ),
        ]
    return found


def judged(way: Way, train: pd.DataFrame, test: pd.DataFrame, seeds: int) -> dict[str, Any]:
    runs = []
    for seed in range(seeds):
        predicted, confidence = way.run(train, test, seed)
        runs.append(score(list(test["label"]), predicted, confidence))
        if not way.random:
            break  # the same fit every time: one seed says it all
    return median_scores(runs)


def grouped_cv(way: Way, train: pd.DataFrame, repeats: int, folds: int) -> dict[str, Any]:
    runs = []
    y = train["label"].to_numpy(object)
    for repeat in range(repeats):
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=repeat)
        predicted = [""] * len(train)
        confidence = np.zeros(len(train))
        for fit_idx, test_idx in splitter.split(train, y, groups=train["project"]):
            fold_pred, fold_conf = way.run(
                train.iloc[fit_idx].reset_index(drop=True),
                train.iloc[test_idx].reset_index(drop=True),
                repeat,
            )
            for i, p, c in zip(test_idx, fold_pred, fold_conf, strict=True):
                predicted[i], confidence[i] = p, c
        runs.append(score(list(y), predicted, confidence))
    return median_scores(runs)


def _line(name: str, s: dict[str, Any]) -> str:
    per = " ".join(f"{s['per_class_f1'][c]:.2f}" for c in LABELS)
    spread = f"[{s['macro_f1_min']:.3f}-{s['macro_f1_max']:.3f}]"
    return (
        f"  {name:<22} {s['macro_f1']:.3f} {spread:<15} {per}   {s['accuracy']:.3f}  {s['ece']:.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_TEXTS)
    parser.add_argument("--test", action="store_true", help="also score the test side")
    parser.add_argument("--seeds", type=int, default=3, help="seeds for the held-out split")
    parser.add_argument("--repeats", type=int, default=3, help="shuffles of the grouped CV")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="measure only these ways (by name)")
    parser.add_argument("--no-novelty", action="store_true", help="skip the novelty AUCs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.seeds < 1 or args.repeats < 1 or args.folds < 2:
        parser.error("--seeds and --repeats must be at least 1, --folds at least 2")

    known = {w.name for w in ways(with_embedding=True)}
    unknown = sorted(set(args.only or ()) - known)
    if unknown:
        print(f"unknown way(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return 2
    started = time.perf_counter()
    corpus = load_corpus(args.data, args.corpus)
    frame = labelled(corpus, LABELS)
    sides = split_sides(frame)
    train = sides["dev"]
    missing_embedding = _embedding_learner.available()
    chosen = [
        w
        for w in ways(with_embedding=missing_embedding is None)
        if not args.only or w.name in args.only
    ]
    report: dict[str, Any] = {
        "labels": list(LABELS),
        **{
            part: {"logs": len(rows), "projects": int(rows["project"].nunique())}
            for part, rows in sides.items()
        },
        "seeds": args.seeds,
        "repeats": args.repeats,
        "folds": args.folds,
        "embedding": missing_embedding or "measured",
        "ways": {},
    }
    for way in chosen:
        report["ways"][way.name] = {
            "what": way.what,
            "validation": judged(way, train, sides["validation"], args.seeds),
            **({"test": judged(way, train, sides["test"], args.seeds)} if args.test else {}),
            "cv": grouped_cv(way, train, args.repeats, args.folds),
        }
        print(f"measured {way.name}", file=sys.stderr)
    if not args.no_novelty:
        report["novelty"] = novelty_report(corpus, args.data, seeds=max(args.seeds, 3))
    report["seconds"] = round(time.perf_counter() - started, 1)

    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"Learned classifier, {frame['label'].nunique()} classes; "
        + ", ".join(
            f"{part} {report[part]['logs']} logs from {report[part]['projects']} projects"
            for part in sides
        )
        + "."
    )
    print(
        f"validation, test: fitted on dev, median of {args.seeds} seeds; cv: {args.folds}-fold"
        f" grouped by project on the dev side, median of {args.repeats} repeats. [min-max] of"
        " macro-F1."
    )
    header = (
        "  "
        + "way".ljust(22)
        + " macro  [spread]        "
        + " ".join(c.split(".")[-1][:4] for c in LABELS)
    )
    for part in ("validation", "test", "cv") if args.test else ("validation", "cv"):
        print(f"\n{part}:\n{header}   acc    ECE")
        for name, result in report["ways"].items():
            print(_line(name, result[part]))
    print("\nways:")
    for name, result in report["ways"].items():
        print(f"  {name:<22} {result['what']}")
    if missing_embedding:
        print(f"  (embedding learner not measured: {missing_embedding})")
    if "novelty" in report:
        novelty = report["novelty"]
        print(f"\nnovelty score, {novelty['about']}:")
        for group, figures in novelty["groups"].items():
            print(
                f"  {group:<38} n={figures['n']:<4} median score {figures['median_score']:.3f}"
                f"  AUC vs unseen training-project logs {figures['auc']:.3f}"
            )
        print(f"  training logs themselves: median score {novelty['training_median']:.3f}")
    print(f"\n({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
