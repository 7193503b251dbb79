"""A fitted FailureModel as the portable champion's data (`models.portable`), or NotPortable.

Walks the fitted scikit-learn objects and takes their numbers: each TF-IDF vectoriser's
vocabulary and idf, the MaxAbsScaler's divisors, the logistic regression's weights, the
calibrator's temperature or sigmoids, and the novelty scorer's reference rows. Anything else,
and any setting the portable scorer does not reproduce (another analyser, stop words, an
ensemble of calibrated folds, isotonic calibration, the boosting learner), is refused with
NotPortable naming it: the caller then keeps the model for scikit-learn instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler

from recoverops.errors import RecoverOpsError
from recoverops.taxonomy import Category

from .classifier import FailureModel
from .learners import rule_verdict
from .portable import dumps
from .portable_text import ANALYZERS, NORMS

Arrays = dict[str, np.ndarray]


class NotPortable(RecoverOpsError):
    """A fitted model the portable scorer cannot reproduce exactly; the message says what."""


def export_model(model: FailureModel) -> bytes:
    """The portable file of `model`; NotPortable when its learner cannot be expressed."""
    estimator = model._estimator
    if estimator is None or model._novelty is None:
        raise NotPortable("the model is not fitted")
    arrays: Arrays = {}
    calibration, pipeline = _calibration(estimator, arrays)
    spec: dict[str, Any] = {
        "classes": list(model.classes_),
        "calibration": calibration,
        "blocks": _linear(pipeline, model.classes_, arrays),
        "novelty": _novelty(model._novelty, arrays),
    }
    return dumps(spec, arrays)


def _calibration(estimator: Any, arrays: Arrays) -> tuple[str, Any]:
    """The calibration's name and arrays, and the learner pipeline it calibrates."""
    if not isinstance(estimator, CalibratedClassifierCV):
        return "none", estimator
    if len(estimator.calibrated_classifiers_) != 1:
        raise NotPortable("an ensemble of calibrated fold models")
    calibrated = estimator.calibrated_classifiers_[0]
    learner = calibrated.estimator
    if _learner_classes(learner, calibrated.classes) != [str(c) for c in calibrated.classes]:
        raise NotPortable("a calibrator whose classes differ from its learner's")
    method = calibrated.method
    if method == "temperature":
        (temperature,) = calibrated.calibrators
        arrays["calibration.beta"] = np.asarray(temperature.beta_, dtype=np.float64)
    elif method == "sigmoid":
        arrays["calibration.a"] = np.array([float(c.a_) for c in calibrated.calibrators])
        arrays["calibration.b"] = np.array([float(c.b_) for c in calibrated.calibrators])
    else:
        raise NotPortable(f"{method} calibration")
    return str(method), learner


def _learner_classes(learner: Any, names: Any) -> list[str]:
    """The learner's classes by name, in its columns' order. For temperature scaling
    scikit-learn fits the learner on the labels' codes (0, 1, ...), which index `names`."""
    classes = list(getattr(learner, "classes_", []))
    if classes and all(isinstance(c, int | np.integer) for c in classes):
        if sorted(int(c) for c in classes) != list(range(len(names))):
            return []
        return [str(names[int(c)]) for c in classes]
    return [str(c) for c in classes]


def _linear(pipeline: Any, classes: tuple[str, ...], arrays: Arrays) -> list[dict[str, Any]]:
    """The feature blocks of a `models.learners` linear pipeline; its weights into `arrays`."""
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        raise NotPortable(f"a learner other than the linear pipeline: {type(pipeline).__name__}")
    features, classifier = (step for _, step in pipeline.steps)
    if not isinstance(classifier, LogisticRegression):
        raise NotPortable(f"the {type(classifier).__name__} learner")
    if _learner_classes(classifier, classes) != list(classes):
        raise NotPortable("a learner whose classes differ from the model's")
    arrays["coef"] = np.asarray(classifier.coef_, dtype=np.float64)
    arrays["intercept"] = np.asarray(classifier.intercept_, dtype=np.float64)
    blocks: list[dict[str, Any]] = []
    for name, transformer, columns in features.transformers_:
        where = features.output_indices_[name]
        if transformer == "drop" or where.start == where.stop:
            continue  # nothing of these columns reaches the learner
        prefix = f"block{len(blocks)}"
        block = _block(transformer, columns, prefix, arrays)
        blocks.append({**block, "name": name, "start": where.start})
    width = sum(_width(block) for block in blocks)
    if width != arrays["coef"].shape[1]:
        raise NotPortable(f"{width} features exported for {arrays['coef'].shape[1]} weights")
    return blocks


def _block(transformer: Any, columns: Any, prefix: str, arrays: Arrays) -> dict[str, Any]:
    if isinstance(transformer, TfidfVectorizer) and isinstance(columns, str):
        return {"kind": "tfidf", "column": columns, **_vectorizer(transformer, prefix, arrays)}
    if isinstance(transformer, MaxAbsScaler):
        arrays[f"{prefix}.scale"] = np.asarray(transformer.scale_, dtype=np.float64)
        return {"kind": "scale", "columns": [str(c) for c in columns]}
    if (
        isinstance(transformer, FunctionTransformer)
        and transformer.func is rule_verdict
        and not transformer.kw_args
        and list(columns) == ["rule_category", "rule_confidence"]
    ):
        return {"kind": "rule_verdict", "categories": [c.value for c in Category]}
    raise NotPortable(f"the feature transformer {transformer!r} on {columns!r}")


def _width(block: dict[str, Any]) -> int:
    if block["kind"] == "tfidf":
        return len(block["vocabulary"])
    return len(block["columns" if block["kind"] == "scale" else "categories"])


def _vectorizer(vectorizer: TfidfVectorizer, prefix: str, arrays: Arrays) -> dict[str, Any]:
    """A fitted TfidfVectorizer's settings and vocabulary; its idf into `arrays`."""
    refused = {
        "input": vectorizer.input != "content",
        "strip_accents": bool(vectorizer.strip_accents),
        "preprocessor": vectorizer.preprocessor is not None,
        "tokenizer": vectorizer.tokenizer is not None,
        "stop_words": vectorizer.stop_words is not None,
        "analyzer": vectorizer.analyzer not in ANALYZERS,
        "binary": bool(vectorizer.binary),
        "norm": vectorizer.norm not in NORMS,
        "dtype": np.dtype(vectorizer.dtype) != np.float64,
    }
    if any(refused.values()):
        settings = ", ".join(f"{k}={getattr(vectorizer, k)!r}" for k, v in refused.items() if v)
        raise NotPortable(f"a TF-IDF vectoriser with {settings}")
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    terms = [""] * len(vocabulary)
    for term, index in vocabulary.items():
        terms[index] = term
    if vectorizer.use_idf:
        arrays[f"{prefix}.idf"] = np.asarray(vectorizer.idf_, dtype=np.float64)
    return {
        "analyzer": vectorizer.analyzer,
        "ngram_range": list(vectorizer.ngram_range),
        "lowercase": bool(vectorizer.lowercase),
        "token_pattern": vectorizer.token_pattern if vectorizer.analyzer == "word" else None,
        "sublinear_tf": bool(vectorizer.sublinear_tf),
        "norm": vectorizer.norm,
        "use_idf": bool(vectorizer.use_idf),
        "vocabulary": terms,
    }


def _novelty(novelty: Any, arrays: Arrays) -> dict[str, Any]:
    reference = novelty._reference
    spec: dict[str, Any] = {"seen": sorted(novelty._seen), "reference": reference is not None}
    if reference is not None:
        spec["vectorizer"] = _vectorizer(novelty._vectorizer, "novelty", arrays)
        csr = reference.tocsr()
        arrays["novelty.reference.data"] = np.asarray(csr.data, dtype=np.float64)
        arrays["novelty.reference.indices"] = np.asarray(csr.indices, dtype=np.int64)
        arrays["novelty.reference.indptr"] = np.asarray(csr.indptr, dtype=np.int64)
    return spec
