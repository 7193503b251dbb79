"""The failure chunk: the few lines that explain a failure, ranked.

A line tells more when it reads like an error, when it sits close to where the job declared its
failure, when its template is rare in the window (boilerplate repeats; the error is said once or
twice), and when a catalogue signature recognises it. Noise patterns (download chatter, the
runner's own "exited with 1" lines) are never evidence: they say *that* it failed, not why.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# Words that make a line read like an error, with how much each says.
_ERROR_WORDS: tuple[tuple[str, float], ...] = (
    (r"\berror(?:s|\(s\))?\b|\berr!|\[error\]|\be/|^e ", 2.0),
    (r"\bfail(?:ed|ure|ures|ing|s)?\b|\bfailed:", 2.0),
    (r"\bfatal\b|\bpanic(?:ked)?\b|\bcritical\b", 2.0),
    (r"exception\b|traceback|\bcaused by\b", 1.5),
    (r"\bcannot\b|\bcan't\b|\bcould not\b|\bcouldn't\b|\bunable to\b|\bnot found\b", 1.5),
    (r"\bno such\b|\bdenied\b|\brefused\b|\bforbidden\b|\bunauthori[sz]ed\b", 1.5),
    (r"\bundefined\b|\bunresolved\b|\bunknown\b|\bmissing\b|\binvalid\b|\bunexpected\b", 1.0),
    (r"\bkilled\b|\btimed? ?out\b|\bexpired\b|\bviolations?\b|\babort(?:ed|ing)?\b", 1.0),
    (r"\bexpected\b|\bassert|\bsegmentation fault\b|\bnot ok\b|[✗✖✘×]", 1.0),
    (r"\bwarn(?:ing)?s?\b|\bdeprecat", 0.3),
)
_WORDS = [(re.compile(p), w) for p, w in _ERROR_WORDS]
# Lines that only say nothing went wrong ("0 errors", "Failures: 0, Errors: 0").
_ALL_CLEAR = re.compile(
    r"\b0 (?:errors?|failures?|failed)\b|\b(?:errors?|failures?|failed):? 0\b(?!\.)"
    r"|\bno (?:errors?|failures?)\b|-werror|error_prone|errorprone|\bon_?error\b"
)
_ALL_CLEAR_FAILURES = re.compile(r"failures: 0, errors: 0|failures=0|errors=0")


def error_score(lower: str) -> float:
    """How much a lower-cased line reads like an error, in [0, 3]."""
    score = 0.0
    for pattern, weight in _WORDS:
        if pattern.search(lower):
            score += weight
    if score and (_ALL_CLEAR.search(lower) or _ALL_CLEAR_FAILURES.search(lower)):
        score *= 0.2
    return min(score, 3.0)


def proximity(line: int, failure_line: int) -> float:
    """Lines just above the failure point matter most; lines after it (after_failure dumps)
    still count, a little less."""
    if line <= failure_line:
        return 1.0 / (1.0 + (failure_line - line) / 60.0)
    return 0.5 / (1.0 + (line - failure_line) / 60.0)


def rarity(count: int) -> float:
    return 1.0 / (1.0 + math.log(count)) if count > 1 else 1.0


@dataclass(frozen=True, slots=True)
class ScoredLine:
    line: int
    text: str
    template: str
    score: float


def rank_lines(
    *,
    lines: Sequence[tuple[int, str]],
    failure_line: int,
    template_of: Callable[[str], str],
    signature_weight: Mapping[int, float],
    is_noise: Callable[[str], bool],
) -> list[ScoredLine]:
    """Every line of the window worth showing, best first, one per template."""
    templates = {number: template_of(text) for number, text in lines if text.strip()}
    counts = Counter(templates.values())
    scored: list[ScoredLine] = []
    for number, text in lines:
        template = templates.get(number)
        if template is None or is_noise(text):
            continue
        base = error_score(text.lower()) + signature_weight.get(number, 0.0)
        if base <= 0:
            continue
        score = base * proximity(number, failure_line) * rarity(counts[template])
        scored.append(ScoredLine(line=number, text=text, template=template, score=score))
    scored.sort(key=lambda s: (-s.score, -s.line))
    best: dict[str, ScoredLine] = {}
    for item in scored:
        best.setdefault(item.template, item)
    return list(best.values())
