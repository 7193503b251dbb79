"""The input example logged with a model: feature rows, with any secret in their text masked."""

from __future__ import annotations

import json

import pandas as pd

from recoverops.analysis import Analysis, Evidence
from recoverops.models.features import FEATURE_COLUMNS, feature_row
from recoverops.taxonomy import Category
from recoverops.training.mlflow_model import published_example
from tests.planted_secrets import KINDS, leaks, plant


def test_a_row_stored_before_redaction_is_masked_in_the_example() -> None:
    """Rows the detector makes are masked already; a row an older version stored may not be."""
    planted = [plant(kind) for kind in KINDS]
    unmasked = Analysis(
        category=Category.BUILD_TEST,
        confidence=0.9,
        summary="tests failed",
        evidence=tuple(Evidence(line=n, text=p.line) for n, p in enumerate(planted, start=1)),
        log_format="plain",
        chunk=tuple(p.line for p in planted),
    )
    frame = pd.DataFrame([feature_row(unmasked)] * 3, columns=list(FEATURE_COLUMNS))

    example = published_example(frame)

    assert list(example.columns) == list(FEATURE_COLUMNS) and len(example) == 2
    shown = json.dumps(example.to_dict(orient="records"), ensure_ascii=False)
    assert [(p.secret, leaks(p.secret, shown)) for p in planted] == [
        (p.secret, []) for p in planted
    ]
    assert example["rule_confidence"].tolist() == [0.9, 0.9]
