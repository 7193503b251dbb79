"""How unlike anything seen in training a failure is: a score in [0, 1] shown with each analysis.

Two signals, averaged:
- new templates: the share of the chunk's masked lines that no training failure printed;
- unusual chunk: one minus the cosine similarity to the nearest training chunk (character
  n-grams of the masked lines), so a familiar failure worded a little differently stays low.

A score near 1 says "nothing like this was seen before": the category is a guess and an operator
should look, and the retrainer should get a label for it.
"""

from __future__ import annotations

from typing import Any

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
        self._reference: Any = None  # the training chunks' sparse n-gram matrix

    def fit(self, rows: pd.DataFrame) -> NoveltyScorer:
        texts = [str(t) for t in rows["templates"]]
        self._seen = set().union(*(_templates(t) for t in texts)) if texts else set()
        nonblank = [t for t in texts if t.strip()]
        if nonblank:
            self._reference = self._vectorizer.fit_transform(nonblank)
        return self

    def score(self, rows: pd.DataFrame) -> np.ndarray:
        texts = [str(t) for t in rows["templates"]]
        if not texts:
            return np.ones(0)
        # One sparse product for the whole batch: the classifier deployment scores batches.
        similarity = np.zeros(len(texts))
        if self._reference is not None:
            products = self._vectorizer.transform(texts) @ self._reference.T
            similarity = np.minimum(1.0, products.max(axis=1).toarray().ravel())
        scores = np.ones(len(texts))
        for i, text in enumerate(texts):
            found = _templates(text)
            if found:  # a chunk with no lines is as unknown as can be
                new = len(found - self._seen) / len(found)
                scores[i] = 0.5 * new + 0.5 * (1.0 - similarity[i])
        return scores
