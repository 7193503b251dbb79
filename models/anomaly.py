"""How unlike anything seen in training a failure is: a score in [0, 1] shown with each analysis.

Two signals, averaged:
- new templates: the share of the chunk's masked lines that no training failure printed;
- unusual chunk: one minus the cosine similarity to the nearest training chunk (character
  n-grams of the masked lines), so a familiar failure worded a little differently stays low.

A score near 1 says "nothing like this was seen before": the category is a guess and an operator
should look, and the retrainer should get a label for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from recoverops.logs.templates import template_id


def _templates(text: str) -> set[str]:
    return {template_id(line) for line in text.split("\n") if line.strip()}


class NoveltyScorer:
    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True
        )
        self._reference: object | None = None

    def fit(self, rows: pd.DataFrame) -> NoveltyScorer:
        texts = [str(t) for t in rows["templates"]]
        self._seen = set().union(*(_templates(t) for t in texts)) if texts else set()
        nonblank = [t for t in texts if t.strip()]
        if nonblank:
            self._reference = self._vectorizer.fit_transform(nonblank)
        return self

    def score(self, rows: pd.DataFrame) -> np.ndarray:
        texts = [str(t) for t in rows["templates"]]
        scores = np.ones(len(texts))
        for i, text in enumerate(texts):
            found = _templates(text)
            if not found:
                continue
            new = len(found - self._seen) / len(found)
            similarity = 0.0
            if self._reference is not None:
                vector = self._vectorizer.transform([text])
                similarity = float((self._reference @ vector.T).max())
            scores[i] = 0.5 * new + 0.5 * (1.0 - min(1.0, similarity))
        return scores
