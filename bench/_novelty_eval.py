"""Does the novelty score (`models.anomaly.NoveltyScorer`) rank the unfamiliar above the familiar?

Fitted on BugSwarm failing logs (Java and Python, Travis) of the training projects, less a random
fifth of them. That fifth is the reference: logs the scorer did not see, of projects it did, so
"training-like". Each other group is ranked against it by AUC (1.0: every log of the group scores
above every reference log; 0.5: no better than chance):

    validation and test BugSwarm   same languages and CI, projects never seen
    LogChunks, Java/Python         same languages, other projects and build set-ups
    LogChunks, other languages     28 other languages and ecosystems
    infra snippets                 Kubernetes, AWS, Terraform and TLS errors, no build at all

Median over seeds (which fifth is held back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from recoverops.detector import analyze_text
from recoverops.models.anomaly import NoveltyScorer
from recoverops.models.features import feature_row
from recoverops.sides import side_of


def infra_rows(data: Path) -> pd.DataFrame:
    snippets = sorted((data / "infra").glob("*/*.txt"))
    return pd.DataFrame(
        [feature_row(analyze_text(p.read_text("utf-8", errors="replace"))) for p in snippets]
    )


def _language(example_id: str) -> str:
    return example_id.split("/")[1]


def novelty_report(corpus: pd.DataFrame, data: Path, *, seeds: int) -> dict[str, Any]:
    bugswarm = corpus[corpus["source"] == "bugswarm"].reset_index(drop=True)
    logchunks = corpus[corpus["source"] == "logchunks"].reset_index(drop=True)
    on_train_side = bugswarm["project"].map(side_of) == "dev"
    usual = logchunks["example_id"].map(_language).isin(["Java", "Python"])
    groups: dict[str, pd.DataFrame] = {
        "validation and test BugSwarm projects": bugswarm[~on_train_side],
        "LogChunks, Java/Python": logchunks[usual],
        "LogChunks, other languages": logchunks[~usual],
    }
    infra = infra_rows(data)
    if len(infra):
        groups["infra snippets"] = infra
    training = bugswarm[on_train_side].reset_index(drop=True)

    aucs: dict[str, list[float]] = {g: [] for g in groups}
    medians: dict[str, list[float]] = {g: [] for g in groups}
    reference_medians, training_medians = [], []
    for seed in range(seeds):
        held = np.random.default_rng(seed).random(len(training)) < 0.2
        scorer = NoveltyScorer().fit(training[~held])
        reference = scorer.score(training[held])
        reference_medians.append(float(np.median(reference)))
        training_medians.append(float(np.median(scorer.score(training[~held]))))
        for name, rows in groups.items():
            scores = scorer.score(rows)
            truth = np.r_[np.zeros(len(reference)), np.ones(len(scores))]
            aucs[name].append(float(roc_auc_score(truth, np.r_[reference, scores])))
            medians[name].append(float(np.median(scores)))
    report: dict[str, Any] = {
        "about": (
            "fitted on BugSwarm logs of the training projects; AUC against a held-back fifth of "
            f"them (unseen logs of seen projects), median of {seeds} seeds"
        ),
        "training_median": float(np.median(training_medians)),
        "groups": {
            "unseen logs of training projects": {
                "n": int(round(len(training) * 0.2)),
                "median_score": float(np.median(reference_medians)),
                "auc": 0.5,
            }
        },
    }
    for name, rows in groups.items():
        report["groups"][name] = {
            "n": len(rows),
            "median_score": float(np.median(medians[name])),
            "auc": float(np.median(aucs[name])),
        }
    return report
