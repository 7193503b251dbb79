"""The champion as data: a FailureModel's fitted numbers scored with numpy, no scikit-learn.

`recoverops analyze` must stay small and fast with a champion (issue #14: ≤ 1 s, ≤ 150 MB), and
importing scikit-learn (and pandas, which the fitted pipeline reads) alone costs more than that.
So a promoted linear champion is also exported (`models.export`) to one `.npz` file holding
only arrays, read with `allow_pickle=False`:

    spec                  a JSON document (UTF-8 bytes): the classes, each feature block, the
                          calibration, the novelty scorer, and every vocabulary
    <block>.idf           each text block's idf weights
    <block>.scale         the rules' scores' MaxAbsScaler divisors
    coef, intercept       the logistic regression's weights
    calibration.*         the temperature (or each class's sigmoid a and b)
    novelty.idf, novelty.reference.{data,indices,indptr}
                          the novelty scorer's n-gram weights and its training chunks' rows

`PortableModel` computes what `FailureModel.predict` computes, step for step in scikit-learn
1.9's order (TF-IDF, scaling, the rules' verdict, the linear decision, temperature scaling or
sigmoids, the novelty score), so its probabilities equal the pipeline's to 1e-9
(tests/models/test_portable.py). A learner it cannot express (gradient boosting) is not
exported; its champion is loaded with scikit-learn as before.

Imports numpy and the standard library only.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recoverops.errors import RecoverOpsError
from recoverops.logs.templates import template_id

from .portable_text import FloatArray, IndexArray, TextVectorizer
from .prediction import Prediction, predictions

# Bumped when the file's layout changes: a copy of another format is exported again.
FORMAT = 1
SPEC = "spec"
CALIBRATIONS = ("temperature", "sigmoid", "none")


class DamagedCopy(RecoverOpsError):
    """A portable model file that cannot be read: truncated, of another format, inconsistent."""


@dataclass(frozen=True, slots=True)
class _TextBlock:
    column: str
    start: int
    vectorizer: TextVectorizer

    def add_decision(self, row: Mapping[str, Any], coef: FloatArray, out: FloatArray) -> None:
        indices, values = self.vectorizer.transform(str(row[self.column]))
        out += coef[:, self.start + indices] @ values


@dataclass(frozen=True, slots=True)
class _ScaledBlock:
    """A MaxAbsScaler over number columns."""

    columns: tuple[str, ...]
    start: int
    scale: FloatArray

    def add_decision(self, row: Mapping[str, Any], coef: FloatArray, out: FloatArray) -> None:
        values = np.array([float(row[c]) for c in self.columns], dtype=np.float64) / self.scale
        out += coef[:, self.start : self.start + len(self.columns)] @ values


@dataclass(frozen=True, slots=True)
class _VerdictBlock:
    """`models.learners.rule_verdict`: the rules' confidence in their category's column."""

    categories: tuple[str, ...]
    start: int

    def add_decision(self, row: Mapping[str, Any], coef: FloatArray, out: FloatArray) -> None:
        category = row["rule_category"]
        if category in self.categories:
            column = self.start + self.categories.index(category)
            out += coef[:, column] * float(row["rule_confidence"])


_Block = _TextBlock | _ScaledBlock | _VerdictBlock


def _softmax(x: FloatArray) -> FloatArray:
    """scikit-learn's `utils.extmath.softmax`, row by row."""
    x = x - x.max(axis=1).reshape(-1, 1)
    np.exp(x, out=x)
    x /= x.sum(axis=1).reshape(-1, 1)
    return x


def _expit(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


@dataclass(frozen=True, slots=True)
class _Novelty:
    """`models.anomaly.NoveltyScorer.score`."""

    seen: frozenset[str]
    vectorizer: TextVectorizer | None
    reference: tuple[FloatArray, IndexArray, IndexArray] | None  # data, column, row of each

    def score(self, text: str) -> float:
        found = {template_id(line) for line in text.split("\n") if line.strip()}
        if not found:  # a chunk with no lines is as unknown as can be
            return 1.0
        similarity = 0.0
        if self.vectorizer is not None and self.reference is not None:
            data, columns, rows = self.reference
            query = np.zeros(self.vectorizer.size)
            indices, values = self.vectorizer.transform(text)
            query[indices] = values
            # The query's dot product with every training chunk, then the nearest one.
            products = np.bincount(rows, weights=data * query[columns])
            similarity = min(1.0, max(0.0, float(products.max(initial=0.0))))
        new = len(found - self.seen) / len(found)
        return 0.5 * new + 0.5 * (1.0 - similarity)


class PortableModel:
    """A FailureModel's predictions from its exported numbers (`models.prediction.RowModel`)."""

    def __init__(
        self,
        *,
        classes: tuple[str, ...],
        blocks: Sequence[_Block],
        coef: FloatArray,
        intercept: FloatArray,
        calibration: str,
        calibration_arrays: Mapping[str, FloatArray],
        novelty: _Novelty,
    ) -> None:
        self.classes_ = classes
        self._blocks = tuple(blocks)
        self._coef = coef
        self._intercept = intercept
        self._calibration = calibration
        self._calibration_arrays = dict(calibration_arrays)
        self._novelty = novelty

    def decision(self, rows: Sequence[Mapping[str, Any]]) -> FloatArray:
        """The logistic regression's decision function: one column per class (one when there
        are two classes, as scikit-learn gives it)."""
        out = np.empty((len(rows), self._coef.shape[0]))
        for i, row in enumerate(rows):
            total = self._intercept.copy()
            for block in self._blocks:
                block.add_decision(row, self._coef, total)
            out[i] = total
        return out

    def predict_proba(self, rows: Sequence[Mapping[str, Any]]) -> FloatArray:
        decision = self.decision(rows)
        if self._calibration == "none":
            return self._learner_proba(decision)
        if self._calibration == "temperature":
            proba = self._temperature(decision)
        else:
            proba = self._sigmoid(decision)
        # scikit-learn's _CalibratedClassifier: a probability a rounding error above 1 is 1.
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    def _learner_proba(self, decision: FloatArray) -> FloatArray:
        """LogisticRegression.predict_proba: a sigmoid for two classes, else softmax."""
        if decision.shape[1] == 1:
            positive = _expit(decision[:, 0])
            return np.stack([1 - positive, positive], axis=1)
        return _softmax(decision)

    def _temperature(self, decision: FloatArray) -> FloatArray:
        """calibration._TemperatureScaling.predict on the decision function."""
        if decision.shape[1] == 1:
            logits = np.concatenate([-decision, decision], axis=1)
        elif bool(np.all((decision >= 0) & (decision <= 1))) and bool(
            np.all(np.isclose(decision.sum(axis=1), 1.0))
        ):
            # scikit-learn takes a batch of decisions that look like probabilities for
            # probabilities, and their logarithms for logits; so must a copy of it.
            logits = np.log(decision + 1e-12)
        else:
            logits = decision
        return _softmax(self._calibration_arrays["beta"] * logits)

    def _sigmoid(self, decision: FloatArray) -> FloatArray:
        """The per-class sigmoids of calibration._SigmoidCalibration, then normalised."""
        a, b = self._calibration_arrays["a"], self._calibration_arrays["b"]
        n_classes = len(self.classes_)
        proba = np.zeros((decision.shape[0], n_classes))
        if n_classes == 2:
            proba[:, 1] = _expit(-(a[0] * decision[:, 0] + b[0]))
            proba[:, 0] = 1.0 - proba[:, 1]
            return proba
        for k in range(n_classes):
            proba[:, k] = _expit(-(a[k] * decision[:, k] + b[k]))
        denominator = proba.sum(axis=1)[:, np.newaxis]
        uniform = np.full_like(proba, 1 / n_classes)
        normalised: FloatArray = np.divide(proba, denominator, out=uniform, where=denominator != 0)
        return normalised

    def anomaly(self, rows: Sequence[Mapping[str, Any]]) -> FloatArray:
        return np.array([self._novelty.score(str(row["templates"])) for row in rows])

    def predict_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        proba = self.predict_proba(rows)
        return predictions(self.classes_, proba, self.anomaly(rows))


def dumps(spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """The portable file's bytes: `arrays` and the JSON `spec`, in one uncompressed .npz."""
    document = json.dumps({**spec, "format": FORMAT}, sort_keys=True).encode()
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **{SPEC: np.frombuffer(document, np.uint8)}, **arrays)
    return buffer.getvalue()


def loads(data: bytes) -> PortableModel:
    """The model in a portable file's bytes; DamagedCopy when they are not one."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        spec = json.loads(arrays.pop(SPEC).tobytes())
        if not isinstance(spec, dict) or spec.get("format") != FORMAT:
            raise DamagedCopy("a portable model of another format")
        return _build(spec, arrays)
    except DamagedCopy:
        raise
    except (
        OSError,
        EOFError,
        zipfile.BadZipFile,
        ValueError,
        KeyError,
        TypeError,
        IndexError,
    ) as error:
        raise DamagedCopy(f"not a portable model: {error}") from None


def _floats(arrays: Mapping[str, np.ndarray], name: str) -> FloatArray:
    array = arrays[name]
    if array.dtype != np.float64:
        raise ValueError(f"{name} is {array.dtype}, not float64")
    return array


def _indices(arrays: Mapping[str, np.ndarray], name: str) -> IndexArray:
    array = arrays[name]
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} is {array.dtype}, not integers")
    return array.astype(np.int64, copy=False)


def _vectorizer(
    spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray], prefix: str
) -> TextVectorizer:
    idf = _floats(arrays, f"{prefix}.idf") if spec["use_idf"] else None
    vectorizer = TextVectorizer.from_spec(spec, idf)
    if idf is not None and idf.shape != (vectorizer.size,):
        raise ValueError(f"{prefix}: {idf.shape[0]} idf weights for {vectorizer.size} terms")
    return vectorizer


def _build(spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> PortableModel:
    classes = tuple(str(c) for c in spec["classes"])
    coef, intercept = _floats(arrays, "coef"), _floats(arrays, "intercept")
    blocks: list[_Block] = []
    for index, block in enumerate(spec["blocks"]):
        start, kind = int(block["start"]), block["kind"]
        prefix = f"block{index}"
        if kind == "tfidf":
            text = _vectorizer(block, arrays, prefix)
            blocks.append(_TextBlock(str(block["column"]), start, text))
            width = text.size
        elif kind == "scale":
            columns = tuple(str(c) for c in block["columns"])
            blocks.append(_ScaledBlock(columns, start, _floats(arrays, f"{prefix}.scale")))
            width = len(columns)
        elif kind == "rule_verdict":
            categories = tuple(str(c) for c in block["categories"])
            blocks.append(_VerdictBlock(categories, start))
            width = len(categories)
        else:
            raise ValueError(f"a feature block this scorer does not know: {kind!r}")
        if start < 0 or start + width > coef.shape[1]:
            raise ValueError(f"feature block {index} lies outside the {coef.shape[1]} weights")
    rows = 1 if len(classes) == 2 else len(classes)
    if coef.shape[0] != rows or intercept.shape != (rows,):
        raise ValueError(f"{coef.shape[0]} rows of weights for {len(classes)} classes")
    calibration = str(spec["calibration"])
    if calibration not in CALIBRATIONS:
        raise ValueError(f"a calibration this scorer does not know: {calibration!r}")
    calibration_arrays = {
        name.removeprefix("calibration."): _floats(arrays, name)
        for name in arrays
        if name.startswith("calibration.")
    }
    novelty = spec["novelty"]
    reference: tuple[FloatArray, IndexArray, IndexArray] | None = None
    vectorizer = None
    if novelty["reference"]:
        vectorizer = _vectorizer(novelty["vectorizer"], arrays, "novelty")
        indptr = _indices(arrays, "novelty.reference.indptr")
        terms = _indices(arrays, "novelty.reference.indices")
        if terms.size and int(terms.max()) >= vectorizer.size:
            raise ValueError("the novelty reference names terms outside its vocabulary")
        rows_of: IndexArray = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
        reference = (_floats(arrays, "novelty.reference.data"), terms, rows_of)
    return PortableModel(
        classes=classes,
        blocks=blocks,
        coef=coef,
        intercept=intercept,
        calibration=calibration,
        calibration_arrays=calibration_arrays,
        novelty=_Novelty(frozenset(novelty["seen"]), vectorizer, reference),
    )
