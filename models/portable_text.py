"""scikit-learn's TfidfVectorizer.transform, for one text at a time, in plain Python and numpy.

The portable champion (`models.portable`) turns text columns into the same TF-IDF vectors as
the fitted vectorisers it was exported from, without importing scikit-learn. Only what the
learners use is reproduced (`models.export` refuses any other setting): the `word` analyser
(any n-gram range, no stop words) and the `char_wb` analyser, lowercasing, sublinear tf, idf,
and l2 or l1 row normalisation. Each step follows scikit-learn 1.9's `feature_extraction.text`
in the same order, so the values agree to the last few bits; tests/models/test_portable.py
compares them on the fixture corpus.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

ANALYZERS = ("word", "char_wb")
NORMS = ("l2", "l1", None)

# scikit-learn's `_VectorizerMixin._white_spaces`: runs of whitespace become one space.
_WHITE_SPACES = re.compile(r"\s\s+")

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]


def _char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with one space each side."""
    text = _WHITE_SPACES.sub(" ", text)
    ngrams: list[str] = []
    append = ngrams.append
    for word in text.split():
        word = f" {word} "
        length = len(word)
        for n in range(low, high + 1):
            offset = 0
            append(word[offset : offset + n])
            while offset + n < length:
                offset += 1
                append(word[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once, as scikit-learn does
                break
    return ngrams


def _word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    if high == 1:
        return tokens
    original = tokens
    if low == 1:
        grams = list(original)
        low += 1
    else:
        grams = []
    for n in range(low, min(high + 1, len(original) + 1)):
        for i in range(len(original) - n + 1):
            grams.append(" ".join(original[i : i + n]))
    return grams


@dataclass(frozen=True, slots=True)
class TextVectorizer:
    """A fitted TF-IDF vectoriser's transform: text in, its sparse row out."""

    analyzer: str
    ngram_range: tuple[int, int]
    lowercase: bool
    token_pattern: str | None
    sublinear_tf: bool
    norm: str | None
    vocabulary: Mapping[str, int]
    idf: FloatArray | None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], idf: FloatArray | None) -> TextVectorizer:
        """From its description in the portable file (`models.export.vectorizer_spec`)."""
        analyzer = str(spec["analyzer"])
        norm = spec["norm"]
        if analyzer not in ANALYZERS or norm not in NORMS:
            raise ValueError(f"a vectoriser this scorer does not know: {analyzer}, norm {norm}")
        terms: Sequence[str] = spec["vocabulary"]
        low, high = (int(n) for n in spec["ngram_range"])
        pattern = spec["token_pattern"]
        return cls(
            analyzer=analyzer,
            ngram_range=(low, high),
            lowercase=bool(spec["lowercase"]),
            token_pattern=None if pattern is None else str(pattern),
            sublinear_tf=bool(spec["sublinear_tf"]),
            norm=norm,
            vocabulary={str(term): index for index, term in enumerate(terms)},
            idf=idf,
        )

    @property
    def size(self) -> int:
        return len(self.vocabulary)

    def analyze(self) -> Callable[[str], list[str]]:
        """The function from a text to its terms (scikit-learn's `build_analyzer`)."""
        low, high = self.ngram_range
        lower = self.lowercase
        if self.analyzer == "char_wb":
            return lambda text: _char_wb_ngrams(text.lower() if lower else text, low, high)
        findall = re.compile(self.token_pattern or r"(?u)\b\w\w+\b").findall
        return lambda text: _word_ngrams(findall(text.lower() if lower else text), low, high)

    def transform(self, text: str) -> tuple[IndexArray, FloatArray]:
        """The column indices (ascending) and values of `text`'s TF-IDF row."""
        vocabulary = self.vocabulary
        counts = Counter(
            index for term in self.analyze()(text) if (index := vocabulary.get(term)) is not None
        )
        indices = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
        values = np.fromiter((counts[i] for i in indices.tolist()), dtype=np.float64)
        if self.sublinear_tf:
            np.log(values, values)
            values += 1.0
        if self.idf is not None:
            values *= self.idf[indices]
        if self.norm == "l2":
            total = float(np.sqrt(np.dot(values, values)))
        elif self.norm == "l1":
            total = float(np.abs(values).sum())
        else:
            total = 0.0
        if total > 0.0:
            values /= total
        return indices, values
