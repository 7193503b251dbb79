"""The failure chunk: the few lines that explain a failure, ranked.

A line tells more when it reads like an error, when it sits close to where the job declared its
failure, when its template is rare in the window (boilerplate repeats; the error is said once or
twice), and when a catalogue signature recognises it. Noise patterns (download chatter, the
runner's own "exited with 1" lines) are never evidence: they say *that* it failed, not why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from recoverops.logs.verdicts import never_evidence

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
    (r"\bexceed(?:ed|s)?\b|\bbroken\b|\bunbound\b|\bnot (?:allowed|permitted|supported)\b", 1.0),
    (r"\bexpected\b|\bassert\b|assertion ?error|assertion failed|\bsegmentation fault\b", 1.0),
    (r"\bnot ok\b|[✗✖✘×]", 1.0),
    (r"\bwarn(?:ing)?s?\b|\bdeprecat", 0.3),
)
_WORDS = [(re.compile(p), w) for p, w in _ERROR_WORDS]
# Lines that only say nothing went wrong ("0 errors", "Failures: 0, Errors: 0").
_ALL_CLEAR = re.compile(
    r"\b0 (?:errors?|failures?|failed)\b|\b(?:errors?|failures?|failed):? 0\b(?!\.)"
    r"|\bno (?:errors?|failures?)\b|-werror|error_prone|errorprone|\bon_?error\b"
)
# Command-line options (`--continue-on-error`, `-Werror`) name errors without reporting one.
_OPTION = re.compile(r"(?<!\S)--?[a-z][\w-]*(?:=\S*)?")
_ALL_CLEAR_FAILURES = re.compile(r"failures: 0, errors: 0|failures=0|errors=0")


def error_score(lower: str) -> float:
    """How much a lower-cased line reads like an error, in [0, 3]."""
    if "-" in lower:
        lower = _OPTION.sub(" ", lower)
    score = 0.0
    for pattern, weight in _WORDS:
        if pattern.search(lower):
            score += weight
    if score and (_ALL_CLEAR.search(lower) or _ALL_CLEAR_FAILURES.search(lower)):
        return 0.0
    return min(score, 3.0)


# Lines that count results ("Tests: 40, Failures: 1", "3 examples, 1 failure"): they say how
# much failed; the lines above them say what.
_TALLY = re.compile(
    r"\b(?:tests?(?: run)?|test suites|examples?|specs?|assertions?|doctests?)\b[:,]?\s+\d+"
    r".*\b(?:failures?|failed|errors?)\b"
    r"|\b\d+ (?:tests?|examples?|specs?|doctests?)\b.*\b\d+ (?:failures?|failed|errors?)\b"
    r"|^There (?:was|were) \d+ (?:failures?|errors?):|^FAILURES!$|^ERRORS!$"
    r"|^\s*\d+ (?:failing|failed|errors?)\s*$|\] \d+ failing$|^collected \d+ items? / \d+ errors?"
    r"|^=+ .*\b\d+ (?:failed|errors?)\b.* in [\d.]+\s?s(?:econds)?\b"
    r"|^[=_*-]{3,} ?[A-Z][A-Z ]+ ?[=_*-]{3,}$"
    # "Found 3 errors", "found 4 failures!", "Failed tests: x", "FAILED tests/Unit": how much
    # failed, or which part, not what.
    r"|\bfound \d+ (?:failures?|errors?|problems?)\b"
    r"|^\s*(?:failed|failing) (?:components|tests|specs|examples|jobs|steps|targets|modules)\b:?"
    r"|^FAILED:?\s+\S+\s*$",
    re.IGNORECASE,
)
TALLY_FACTOR = 0.4
# When nothing in the failing step reads like an error, the last lines it printed before the
# failure point are the best evidence there is.
LAST_WORDS = 3
# A failing step that explains nothing, or prints next to nothing ("exit 1" after counting
# warnings), failed because of what the steps just before it printed: look back this far.
LOOKBACK = 100
THIN_STEP = 4
# A line this strong is an error line; error lines at most BLOCK_GAP apart form one block.
ERROR_LINE = 1.0
BLOCK_GAP = 8


def proximity(line: int, failure_line: int) -> float:
    """Blocks just above the failure point matter most; blocks after it (after_failure dumps)
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
    # What kind of line this is: the signatures it carries, or else its template. Blocks led by
    # the same kind are the same failure again.
    kind: str = ""
    tally: bool = False
    # The score before rarity: a list of similar errors (ten flake8 lines) starts with its first.
    base: float = 0.0


@dataclass(frozen=True, slots=True)
class LineFacts:
    """What the detector knows about each line of the window, beyond its text."""

    template_of: Callable[[str], str]
    cluster_size: Mapping[int, int]  # the line's Drain cluster size in the window
    signature_weight: Mapping[int, float]  # the heaviest catalogue signature on the line
    signature_kind: Mapping[int, str]  # the signatures on the line, as one key
    is_noise: Callable[[str], bool]


def _line_scores(
    lines: Sequence[tuple[int, str]], step_start: int, facts: LineFacts
) -> list[ScoredLine]:
    templates = {number: facts.template_of(text) for number, text in lines if text.strip()}
    scored: list[ScoredLine] = []
    for number, text in lines:
        template = templates.get(number)
        if template is None or facts.is_noise(text):
            continue
        # Lines well before the failing step belong to earlier, successful steps.
        if number < step_start - LOOKBACK:
            continue
        score = error_score(text.lower()) + facts.signature_weight.get(number, 0.0)
        if score <= 0 or never_evidence(text):
            continue
        base = score
        score *= rarity(facts.cluster_size.get(number, 1))
        tally = _TALLY.search(text) is not None
        if tally:
            score *= TALLY_FACTOR
        scored.append(
            ScoredLine(
                line=number,
                text=text,
                template=template,
                score=score,
                kind=facts.signature_kind.get(number, template),
                tally=tally,
                base=base,
            )
        )
    return scored


def _blocks(scored: list[ScoredLine]) -> list[list[ScoredLine]]:
    blocks: list[list[ScoredLine]] = []
    for item in scored:
        # A tally says how much failed; it never anchors the explanation.
        if item.score < ERROR_LINE or item.tally:
            continue
        if blocks and item.line - blocks[-1][-1].line <= BLOCK_GAP:
            blocks[-1].append(item)
        else:
            blocks.append([item])
    return blocks


def _block_score(block: list[ScoredLine], failure_line: int) -> float:
    top = sorted((s.score for s in block), reverse=True)[:3]
    return sum(top) * proximity(block[-1].line, failure_line)


def _lead_first(block: list[ScoredLine]) -> list[ScoredLine]:
    strongest = max(s.base for s in block)
    lead = next(s for s in block if s.base >= 0.5 * strongest)
    rest = sorted((s for s in block if s is not lead), key=lambda s: (-s.score, s.line))
    return [lead, *rest]


def _repeats_first(blocks: list[list[ScoredLine]], failure_line: int) -> list[list[ScoredLine]]:
    """Blocks, best first. A block led by the same template as an earlier one is the same
    failure again (the second failing test, the retried command): the group is ranked by its
    best block, and its first occurrence leads."""
    groups: dict[str, list[list[ScoredLine]]] = {}
    for block in blocks:
        groups.setdefault(_lead_first(block)[0].kind, []).append(block)
    ranked = sorted(
        groups.values(),
        key=lambda group: max(_block_score(b, failure_line) for b in group),
        reverse=True,
    )
    return [block for group in ranked for block in group]


def _last_words(
    lines: Sequence[tuple[int, str]], failure_line: int, step_start: int, facts: LineFacts
) -> list[ScoredLine]:
    tail = [
        (number, text)
        for number, text in lines
        if step_start <= number <= failure_line
        and text.strip()
        and not facts.is_noise(text)
        and not never_evidence(text)
    ][-LAST_WORDS:]
    # The last line printed before the failure leads.
    return [
        ScoredLine(line=n, text=t, template=facts.template_of(t), score=0.1 / (i + 1))
        for i, (n, t) in enumerate(reversed(tail))
    ]


def rank_lines(
    *, lines: Sequence[tuple[int, str]], failure_line: int, step_start: int, facts: LineFacts
) -> list[ScoredLine]:
    """The window's telling lines, most telling first, one per template.

    Error lines cluster into blocks; the block that best explains the failure (strong lines,
    close to the failure point) comes first, led by its first strong line: the root error comes
    before its consequences and the tallies below it.
    """
    scored = _line_scores(lines, step_start, facts)
    printed = sum(1 for n, t in lines if step_start < n <= failure_line and t.strip())
    in_step = [s for s in scored if s.line >= step_start]
    before = [s for s in scored if s.line < step_start]
    blocks = _blocks(in_step)
    if printed <= THIN_STEP:
        blocks += _blocks(before)
    ordered: list[ScoredLine] = []
    for block in _repeats_first(sorted(blocks, key=lambda b: b[0].line), failure_line):
        ordered += _lead_first(block)
    if not ordered:
        ordered = _last_words(lines, failure_line, step_start, facts)
    in_blocks = {s.line for s in ordered}
    ordered += sorted(
        (s for s in in_step if s.line not in in_blocks), key=lambda s: (-s.score, -s.line)
    )
    best: dict[str, ScoredLine] = {}
    for item in ordered:
        best.setdefault(item.template, item)
    return list(best.values())
