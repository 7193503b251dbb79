"""NoveltyScorer: familiar failures score low, unfamiliar ones high, always within [0, 1]."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recoverops.detector import analyze_text
from recoverops.models.anomaly import NoveltyScorer
from recoverops.models.features import feature_row

# A Kubernetes error, nothing like the build logs of the fixture corpus (Kubernetes docs).
UNSEEN = """\
Events:
  Type     Reason     Age   From               Message
  Warning  BackOff    12s   kubelet            Back-off restarting failed container
  Normal   Killing    30s   kubelet            Container memory-demo-ctr exceeded its memory limit
Last State:     Terminated
  Reason:       OOMKilled
  Exit Code:    137
"""


def _rows(*texts: str) -> pd.DataFrame:
    return pd.DataFrame([feature_row(analyze_text(t)) for t in texts])


def test_training_rows_score_lower_than_an_unseen_failure(case_rows: pd.DataFrame) -> None:
    scorer = NoveltyScorer().fit(case_rows)
    seen = scorer.score(case_rows)
    unseen = scorer.score(_rows(UNSEEN))
    assert unseen[0] > 0.6
    assert unseen[0] > seen.max()
    assert np.median(seen) < 0.2


def test_a_left_out_log_of_a_seen_kind_scores_below_an_unseen_kind(
    case_rows: pd.DataFrame,
) -> None:
    scorer = NoveltyScorer().fit(case_rows.iloc[1:])
    left_out = scorer.score(case_rows.iloc[:1])[0]
    unseen = scorer.score(_rows(UNSEEN))[0]
    assert left_out < unseen


def test_scores_stay_within_zero_and_one(case_rows: pd.DataFrame) -> None:
    scorer = NoveltyScorer().fit(case_rows.iloc[:5])
    scores = scorer.score(pd.concat([case_rows, _rows(UNSEEN)], ignore_index=True))
    assert scores.shape == (len(case_rows) + 1,)
    assert ((scores >= 0.0) & (scores <= 1.0)).all()


def test_a_row_without_a_chunk_is_maximally_novel(case_rows: pd.DataFrame) -> None:
    scorer = NoveltyScorer().fit(case_rows)
    blank = case_rows.iloc[:1].assign(templates="", chunk="")
    assert scorer.score(blank)[0] == 1.0


def test_an_unfitted_scorer_calls_everything_novel(case_rows: pd.DataFrame) -> None:
    scores = NoveltyScorer().score(case_rows.iloc[:3])
    np.testing.assert_allclose(scores, 1.0)
