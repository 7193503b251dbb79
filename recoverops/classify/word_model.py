"""The word model: a small linear model over the words of the failure chunk, shipped with the
package, that names a failure the signatures do not know the wording of.

Signatures are precise and explain themselves, but only recognise wordings someone wrote down; a
real failure from a tool nobody here has seen ("ResourceExhausted: Quota 'CPUS' exceeded") shares
words with the failures that were written down, not lines. So when the rules abstain and the chunk
still reads like an error, this model gives the category its words point to, with a calibrated
probability, and `unknown` stays for text that is not a failure.

    features   the chunk's lowercased words and word pairs (`w:quota`, `b:quota_exceeded`), the
               failing command's words (`c:terraform`), and the categories of the signatures that
               matched in the chunk, the step or the command (`s:deploy.config`)
    model      one weight per (feature, class) and an intercept per class, scores summed over
               the features present, a softmax at the fitted temperature
    rules      the same file calibrates the rules' own confidence (`calibrated`): a logistic
               map of its logit, fitted on the validation side where the rules decided

It runs in pure Python, so `recoverops analyze` stays fast and imports no learning library. The
weights (`word_model.json`) are fitted by `python -m recoverops.training.word_model` on the dev
side of the corpora and calibrated on the validation side (`recoverops.sides`); the file says what
it was trained on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from recoverops.errors import ConfigurationError
from recoverops.taxonomy import Category

MODEL_FILE = "word_model.json"
_WORD = re.compile(r"[a-z][a-z0-9]+|\b[1-5]\d\d\b")
# Signature hits this close to the failure say what kind of failure it is.
_NEAR = frozenset({"chunk", "step", "command"})


def word_features(chunk: str, command: str, signatures: Iterable[str]) -> frozenset[str]:
    """The features of one failure: `chunk` its lines, `command` the failing step's name and
    command, `signatures` the `location:category` tokens of the signature hits."""
    found: set[str] = set()
    for line in chunk.lower().split("\n"):
        words = _WORD.findall(line)
        found.update(f"w:{w}" for w in words)
        found.update(f"b:{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    found.update(f"c:{w}" for w in _WORD.findall(command.lower()))
    for token in signatures:
        location, _, name = token.partition(":")
        if location in _NEAR and name in Category._value2member_map_:
            found.add(f"s:{name}")
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class WordModel:
    classes: tuple[Category, ...]
    intercept: tuple[float, ...]
    weights: Mapping[str, Mapping[int, float]]  # feature -> {class index: weight}
    temperature: float
    about: Mapping[str, Any]
    # (slope, intercept) of the logistic map from the rules' confidence to a calibrated one.
    rules_calibration: tuple[float, float] = (1.0, 0.0)

    def calibrated(self, confidence: float) -> float:
        """The rules' confidence in a category, calibrated (a probability it is right)."""
        p = min(max(confidence, 1e-4), 1 - 1e-4)
        slope, offset = self.rules_calibration
        return 1.0 / (1.0 + math.exp(-(slope * math.log(p / (1 - p)) + offset)))

    def probabilities(self, features: Iterable[str]) -> dict[Category, float]:
        scores = list(self.intercept)
        for feature in features:
            for index, weight in self.weights.get(feature, {}).items():
                scores[index] += weight
        top = max(scores)
        exps = [math.exp((s - top) / self.temperature) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def to_json(self) -> dict[str, Any]:
        return {
            "classes": [c.value for c in self.classes],
            "intercept": list(self.intercept),
            "temperature": self.temperature,
            "weights": {f: {str(i): w for i, w in ws.items()} for f, ws in self.weights.items()},
            "about": dict(self.about),
            "rules_calibration": list(self.rules_calibration),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any], *, source: str) -> WordModel:
        try:
            classes = tuple(Category(c) for c in document["classes"])
            intercept = tuple(float(v) for v in document["intercept"])
            weights = {
                str(f): {int(i): float(w) for i, w in ws.items()}
                for f, ws in document["weights"].items()
            }
            temperature = float(document["temperature"])
            about = dict(document.get("about") or {})
            slope, offset = (float(v) for v in document.get("rules_calibration", (1.0, 0.0)))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ConfigurationError(f"{source}: not a word model ({error})") from None
        bad = [i for ws in weights.values() for i in ws if not 0 <= i < len(classes)]
        if len(intercept) != len(classes) or bad or temperature <= 0:
            raise ConfigurationError(f"{source}: inconsistent word model")
        return cls(classes, intercept, weights, temperature, about, (slope, offset))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")) + "\n")


@cache
def shipped_word_model() -> WordModel | None:
    """The model the package ships, or None when it ships none."""
    entry = resources.files("recoverops.classify") / MODEL_FILE
    if not entry.is_file():
        return None
    return WordModel.from_json(json.loads(entry.read_text("utf-8")), source=MODEL_FILE)


# The decided_by of a verdict the word model gave.
WORDS = "words"
# The rules found nothing: as sure as the rules can be that nothing known is in the text.
QUIET_CONFIDENCE = 0.9
# When error lines are there, `unknown` is only said when the model itself finds the text most
# like a non-failure, and never with more confidence than this.
MAX_UNKNOWN_WITH_ERRORS = 0.5
# Without a clear error line (an access log, a scanner's table), the words alone name a category
# only when the model is at least this sure.
WORDS_ALONE = 0.6


def fallback_verdict(
    model: WordModel | None, *, features: frozenset[str], clear_error: bool, rules_score: float
) -> tuple[Category, float, str | None]:
    """The verdict when the rules abstained: (category, confidence, who decided, None = the
    rules). Text without a clear error line is `unknown`; text with one gets the category its
    words point to, with the model's calibrated probability, unless the model finds it most like
    a text that is not a failure."""
    quiet_confidence = QUIET_CONFIDENCE - 0.4 * min(1.0, rules_score)
    if model is None:
        if clear_error:
            quiet_confidence = min(quiet_confidence, MAX_UNKNOWN_WITH_ERRORS)
        return Category.UNKNOWN, round(quiet_confidence, 3), None
    probabilities = model.probabilities(features)
    quiet = probabilities.get(Category.UNKNOWN, 0.0)
    failures = {c: p for c, p in probabilities.items() if c is not Category.UNKNOWN}
    best = max(failures, key=failures.__getitem__)
    if clear_error:
        if quiet > failures[best] and quiet > 0.5:
            return Category.UNKNOWN, round(min(quiet, MAX_UNKNOWN_WITH_ERRORS), 3), WORDS
        return best, round(failures[best], 3), WORDS
    if failures[best] >= WORDS_ALONE:
        return best, round(failures[best], 3), WORDS
    return Category.UNKNOWN, round(min(quiet_confidence, 1.0 - failures[best]), 3), None
