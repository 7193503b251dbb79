"""The learned order of the evidence lines: a small linear model over what is known of each line.

The hand-written ranking (`recoverops.logs.chunk.rank_lines`) finds the error blocks and orders
them by how strong and how close to the failure they are. It was tuned on a few projects; on
projects nobody here looked at, the line a person would point to is often its second or fourth.
This model reorders its candidates, plus the last lines the failing command printed, by features
any log has:

    hand         1 / (1 + the line's place in the hand-written ranking); 0 for a tail line
    hand_first   the hand-written ranking put it first
    error        how much it reads like an error (`chunk.error_score`), over 3
    signature    the heaviest catalogue signature on it, over 3
    rare         how rare its template is in the window (boilerplate repeats)
    tally        it counts results ("Tests: 40, Failures: 1") rather than naming one
    after        it comes after the failure point (after_failure dumps)
    distance     how far it is from the failure point, log-scaled
    in_command   it is in the failing command's own output block
    first_error  it is the first error line of that block (the root, before its consequences)
    last_error   it is the last error line of that block
    location     it names a place (`File.java:42`, `line 12`, `file.py:3:`)
    indented     it starts with white space (a continuation, a detail)
    length       its length, over 200
    tail         it reads like no error at all (a tail line, or a line only a signature names)
    exception    it names an exception or error type (`FooError`, `BarException`, `Caused by`)
    starts_failed  it opens with "failed" / "failure" (often a summary: "FAILED tests/x")
    starts_error   it opens with "error" / "E " / "ERR!" (a tool's own error line)
    shouting     it is written in capitals (a banner)

The weights (`line_ranker.json`) are fitted by `python -m recoverops.training.line_ranker` on the
dev side of LogChunks, grouped by repository; the file says what it was fitted on and what grouped
cross-validation measured. Scoring is a dot product: pure Python, a few microseconds a line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from recoverops.errors import ConfigurationError
from recoverops.logs.chunk import ERROR_LINE, LineFacts, ScoredLine, error_score, rarity
from recoverops.logs.verdicts import never_evidence

MODEL_FILE = "line_ranker.json"
FEATURES: tuple[str, ...] = (
    "hand",
    "hand_first",
    "error",
    "signature",
    "rare",
    "tally",
    "after",
    "distance",
    "in_command",
    "first_error",
    "last_error",
    "location",
    "indented",
    "length",
    "tail",
    "exception",
    "starts_failed",
    "starts_error",
    "shouting",
)
# The hand-written first line is right most of the time; the model weighs every feature again for
# it (`hand_first*<feature>`), so that it can tell when to keep it and when another line is better.
INPUTS: tuple[str, ...] = FEATURES + tuple(f"hand_first*{name}" for name in FEATURES)
_HAND_FIRST = FEATURES.index("hand_first")
# The last lines the failing command printed are candidates even when no word marks them: a
# diff, an assertion's "expected ... got", a linter's "file:line: message".
TAIL_CANDIDATES = 12
_LOCATION = re.compile(r"\S\.[A-Za-z]\w{0,5}[:(]\d+|\bline \d+")
_EXCEPTION = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Failure)\b|^\s*Caused by\b")
_STARTS_FAILED = re.compile(r"^\s*(?:\W\s*)?fail(?:ed|ure|ures|ing)?\b", re.IGNORECASE)
_STARTS_ERROR = re.compile(r"^\s*(?:\W\s*)?(?:error|err!|e:|e\s)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RankContext:
    """Where the failure is: the line the job declared it, and where the failing command's own
    output began (the command's echo, or the step's first line)."""

    failure_line: int
    command_line: int


@dataclass(frozen=True, slots=True)
class Candidate:
    item: ScoredLine
    features: tuple[float, ...]

    @property
    def inputs(self) -> tuple[float, ...]:
        """The model's inputs: the features, then each of them again for the hand-written
        first line (zero for the others)."""
        first = self.features[_HAND_FIRST]
        return self.features + tuple(f * first for f in self.features)


def candidates(
    ranked: Sequence[ScoredLine],
    *,
    lines: Sequence[tuple[int, str]],
    context: RankContext,
    facts: LineFacts,
) -> list[Candidate]:
    """The hand-ranked lines and the failing command's last lines, each with its features."""
    pool = list(ranked)
    seen = {s.template for s in pool}
    tail: list[ScoredLine] = []
    for number, text in reversed(lines):
        if len(tail) >= TAIL_CANDIDATES or number < context.command_line:
            break
        if number > context.failure_line or not text.strip():
            continue
        if facts.is_noise(text) or never_evidence(text):
            continue
        template = facts.template_of(text)
        if template not in seen:
            seen.add(template)
            tail.append(ScoredLine(line=number, text=text, template=template, score=0.0))
    pool += tail
    errors = {s.line: error_score(s.text.lower()) for s in pool}
    block = [
        n
        for n, e in errors.items()
        if e >= ERROR_LINE and context.command_line <= n <= context.failure_line
    ]
    first, last = (min(block), max(block)) if block else (-1, -1)
    hand_rank = {s.line: i for i, s in enumerate(ranked)}
    found = []
    for item in pool:
        n, text = item.line, item.text
        rank = hand_rank.get(n)
        error = errors[n]
        signature = min(facts.signature_weight.get(n, 0.0), 3.0)
        features = (
            0.0 if rank is None else 1.0 / (1.0 + rank),
            float(rank == 0),
            error / 3.0,
            signature / 3.0,
            rarity(facts.cluster_size.get(n, 1)),
            float(item.tally),
            float(n > context.failure_line),
            min(1.0, math.log1p(abs(context.failure_line - n)) / math.log(1000.0)),
            float(context.command_line <= n <= context.failure_line),
            float(n == first),
            float(n == last),
            float(_LOCATION.search(text) is not None),
            float(text[:1].isspace()),
            min(len(text), 200) / 200.0,
            float(error == 0.0),
            float(_EXCEPTION.search(text) is not None),
            float(_STARTS_FAILED.match(text) is not None),
            float(_STARTS_ERROR.match(text) is not None),
            _shouting(text),
        )
        found.append(Candidate(item=item, features=features))
    return found


def _shouting(text: str) -> float:
    """1.0 for a line written in capitals ("TEST FAILURE", "BUILD FAILED"): a banner."""
    letters = [c for c in text if c.isalpha()]
    return float(len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.8 * len(letters))


@dataclass(frozen=True)
class LineRanker:
    weights: tuple[float, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LineRanker:
        names = data.get("inputs")
        if names != list(INPUTS) or len(data.get("weights", ())) != len(INPUTS):
            raise ConfigurationError(
                f"the line ranker's inputs {names} are not this version's {list(INPUTS)}: "
                "refit it with `python -m recoverops.training.line_ranker`"
            )
        return cls(weights=tuple(float(w) for w in data["weights"]))

    @classmethod
    def load(cls, path: Path) -> LineRanker:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    def score(self, features: Sequence[float]) -> float:
        return sum(w * f for w, f in zip(self.weights, features, strict=True))

    def order(self, found: Sequence[Candidate]) -> list[ScoredLine]:
        """The candidates, best first; ties keep the hand-written order."""
        scored = sorted(enumerate(found), key=lambda pair: (-self.score(pair[1].inputs), pair[0]))
        return [candidate.item for _, candidate in scored]


@cache
def shipped_line_ranker() -> LineRanker | None:
    """The ranker the package ships, or None when it ships none (the hand-written order)."""
    resource = resources.files("recoverops.logs").joinpath(MODEL_FILE)
    if not resource.is_file():
        return None
    return LineRanker.from_json(json.loads(resource.read_text(encoding="utf-8")))
