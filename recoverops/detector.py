"""The detector: from a log's text to an analysis, with no LLM and no services.

    normalize ─► failing step ─► window ─► signature hits ─► failure chunk ─► classify ─► summary

The same function serves `recoverops analyze`, `POST /analyze` and the detector actors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from recoverops.analysis import Analysis, Evidence, SignatureHit, Step
from recoverops.classify.catalogue import Catalogue, load_catalogue
from recoverops.classify.scorer import (
    SYMPTOM_FACTOR,
    SignatureMatcher,
    category_scores,
    decide,
)
from recoverops.classify.word_model import fallback_verdict, shipped_word_model, word_features
from recoverops.logs.chunk import LineFacts, ScoredLine, error_score, rank_lines
from recoverops.logs.document import LogDocument
from recoverops.logs.formats import detect_format
from recoverops.logs.formats.plain import Plain
from recoverops.logs.passing import drop_passing
from recoverops.logs.ranker import Candidate, RankContext, candidates, shipped_line_ranker
from recoverops.logs.steps import failing_step
from recoverops.logs.templates import mask, mine, template_id
from recoverops.redaction import Redactor
from recoverops.taxonomy import DESCRIPTIONS, Category

EVIDENCE_LINES = 5
# Lines around a top evidence line that belong to the failure chunk.
CHUNK_CONTEXT = 3
CHUNK_ANCHORS = 3
# After the failure point CI systems print after_failure output (test reports, dumps).
TAIL_LINES = 300
# A line that reads like this much of an error ("error", "failed", "fatal", "denied" ...) is a
# clear error line: a log with one is a failure, and gets a category rather than `unknown`.
CLEAR_ERROR = 1.5
_COMMAND = re.compile(r"^(?:\$ |\+ |Run |> )(.+)$")

_matchers: dict[int, SignatureMatcher] = {}


def _matcher(catalogue: Catalogue) -> SignatureMatcher:
    matcher = _matchers.get(id(catalogue))
    if matcher is None or matcher.catalogue is not catalogue:
        matcher = _matchers[id(catalogue)] = SignatureMatcher(catalogue)
    return matcher


def _last_command(doc: LogDocument, step: Step, lo: int, hi: int) -> tuple[str | None, int]:
    """The failing command and the line its output starts at. A step the CI system cut out for
    one command (Travis' `$ make`) is that command's block. Otherwise it is the last command
    echoed before the failure point (`$ make`, `+ npm test`, `Run pytest`); an npm script's
    `> jest` names the step, but does not start a block (Gradle prints `> Task :test` and
    `> Compilation failed` too)."""
    if step.command:
        return step.command, step.start
    command, start = None, None
    for number in range(hi, max(step.start, lo) - 1, -1):
        found = _COMMAND.match(doc.clean(number))
        if found:
            command = command or found.group(1).strip()
            if not found.group(0).startswith(">"):
                start = number
                break
    return command, step.start if start is None else start


@dataclass(frozen=True)
class _Ranking:
    """The window of a log and its telling lines, before a category is chosen."""

    step: Step
    log_format: str
    failure_line: int
    lines: list[tuple[int, str]]
    line_hits: dict[int, list[tuple[str, Category, float, bool]]]
    hand: list[ScoredLine]
    candidates: list[Candidate]


def _rank(
    text: str, *, catalogue: Catalogue, window_lines: int, passing_text: str | None
) -> _Ranking:
    matcher = _matcher(catalogue)
    doc = LogDocument(text)
    log_format = detect_format(doc)
    step = failing_step(log_format.steps(doc)) or Step(name="log", start=1, end=1, failed=True)
    failure_line = min(step.end, len(doc))
    lo = max(1, failure_line - window_lines + 1)
    hi = min(len(doc), failure_line + TAIL_LINES)
    command, command_line = _last_command(doc, step, lo, failure_line)
    step = replace(step, command=command)
    if log_format.name == Plain.name and step.command:
        # A plain log is one step with no name of its own: it is named after what it ran.
        step = replace(step, name=step.command)

    lines = [(n, doc.clean(n)) for n in range(lo, hi + 1)]
    line_hits: dict[int, list[tuple[str, Category, float, bool]]] = {}
    for number, line in lines:
        if line:
            found = matcher.match_line(line, line.lower())
            if found:
                line_hits[number] = [(s.id, s.category, s.weight, s.symptom) for s in found]
    # Where a cause was printed, its symptoms (the BackOff after the crash) do not lead.
    caused = any(not symptom for hits in line_hits.values() for *_, symptom in hits)
    # Drain clusters say how common each line is in the window: boilerplate repeats.
    printed = [(n, line) for n, line in lines if line.strip()]
    mined = mine(line for _, line in printed)
    facts = LineFacts(
        template_of=mask,
        cluster_size={n: template.size for (n, _), template in zip(printed, mined, strict=True)},
        signature_weight={
            n: max(w * (SYMPTOM_FACTOR if symptom and caused else 1.0) for _, _, w, symptom in hits)
            for n, hits in line_hits.items()
        },
        signature_kind={n: " ".join(sorted(s for s, *_ in hits)) for n, hits in line_hits.items()},
        is_noise=matcher.is_noise,
    )
    # The failing command's own output is where its error is: what the commands before it
    # printed counts only when it printed next to nothing (`chunk.THIN_STEP`).
    hand = rank_lines(
        lines=lines,
        failure_line=failure_line,
        step_start=max(step.start, command_line),
        facts=facts,
    )
    pool = candidates(
        hand,
        lines=lines,
        context=RankContext(failure_line=failure_line, command_line=command_line),
        facts=facts,
    )
    if passing_text:
        pool = drop_passing(pool, passing_text)
    return _Ranking(
        step=step,
        log_format=log_format.name,
        failure_line=failure_line,
        lines=lines,
        line_hits=line_hits,
        hand=hand,
        candidates=pool,
    )


def evidence_candidates(
    text: str,
    *,
    catalogue: Catalogue | None = None,
    window_lines: int = 20_000,
    passing_text: str | None = None,
) -> list[Candidate]:
    """The lines the evidence is chosen from, in the hand-written order, with the line ranker's
    features: what `recoverops.training.line_ranker` fits the ranker on."""
    return _rank(
        text,
        catalogue=catalogue or load_catalogue(),
        window_lines=window_lines,
        passing_text=passing_text,
    ).candidates


def analyze_text(
    text: str,
    *,
    catalogue: Catalogue | None = None,
    window_lines: int = 20_000,
    word_model: bool = True,
    passing_text: str | None = None,
) -> Analysis:
    """The analysis of one log; `word_model=False` is the rules alone, uncalibrated (what the
    word model itself is fitted on). `passing_text` is the log of the last passing run of the
    same job, when one is known: lines it printed too are not why this one failed."""
    catalogue = catalogue or load_catalogue()
    matcher = _matcher(catalogue)
    ranking = _rank(text, catalogue=catalogue, window_lines=window_lines, passing_text=passing_text)
    step, lines, line_hits = ranking.step, ranking.lines, ranking.line_hits
    ranker = shipped_line_ranker()
    if ranker is not None:
        ranked = ranker.order(ranking.candidates)
    else:
        ranked = [c.item for c in ranking.candidates if c.item.score > 0] or ranking.hand
    log_format_name = ranking.log_format

    # The chunk is anchored on the lines that read like errors: a quiet tail line the ranker put
    # among the evidence shows where to look, but does not make its neighbours the failure.
    anchors = [s for s in ranked if s.score > 0][:CHUNK_ANCHORS] or ranked[:CHUNK_ANCHORS]
    chunk = {
        n
        for item in anchors
        for n in range(item.line - CHUNK_CONTEXT, item.line + CHUNK_CONTEXT + 1)
    }
    hits = [
        SignatureHit(
            signature=sid,
            category=category,
            line=number,
            weight=weight,
            location=_location(number, chunk, step),
            symptom=symptom,
        )
        for number, found in line_hits.items()
        for sid, category, weight, symptom in found
    ]
    if step.command:
        hits += [
            SignatureHit(
                signature=s.id,
                category=s.category,
                line=step.start,
                weight=s.weight,
                location="command",
                symptom=s.symptom,
            )
            for s in matcher.match_command(step.command)
        ]
    scores = category_scores(hits)
    category, confidence = decide(scores)
    chunk_lines = tuple(text for n, text in lines if n in chunk and text.strip())
    decided_by = "rules"
    words = shipped_word_model() if word_model else None
    if category is not Category.UNKNOWN and words is not None:
        confidence = round(words.calibrated(confidence), 3)
    elif category is Category.UNKNOWN:
        category, confidence, by_words = fallback_verdict(
            words,
            features=word_features(
                "\n".join(chunk_lines),
                f"{step.name} {step.command or ''}".strip(),
                [f"{h.location}:{h.category.value}" for h in hits],
            ),
            clear_error=any(error_score(s.text.lower()) >= CLEAR_ERROR for s in ranked[:3]),
            rules_score=max(scores.values(), default=0.0),
        )
        decided_by = by_words or decided_by
    # Nothing quoting the log leaves unmasked (`recoverops.redaction`). Masked after the verdict
    # and the ranking, so a secret never changes what is picked; before the templates and the
    # summary, so neither quotes a secret and a rotated secret keeps the fingerprint. The
    # private keys are looked for in the window, where every line the output quotes is.
    redact = Redactor.for_log("\n".join(line for _, line in lines))
    evidence = tuple(replace(e, text=redact(e.text)) for e in _evidence(ranked, hits, category))
    chunk_lines = redact.lines(chunk_lines)
    step = replace(step, name=redact(step.name), command=step.command and redact(step.command))
    chunk_templates = tuple(template_id(mask(e.text)) for e in evidence)
    return Analysis(
        category=category,
        confidence=confidence,
        summary=_summary(category, step, evidence, hits, catalogue),
        evidence=evidence,
        log_format=log_format_name,
        failing_step=step,
        templates=chunk_templates,
        hits=tuple(hits),
        scores=scores,
        chunk=chunk_lines,
        decided_by=decided_by,
    )


def _location(number: int, chunk: set[int], step: Step) -> str:
    if number in chunk:
        return "chunk"
    if step.start <= number <= step.end:
        return "step"
    return "log"


def _evidence(
    ranked: list[ScoredLine], hits: list[SignatureHit], category: Category
) -> tuple[Evidence, ...]:
    """The most telling lines first, each with the verdict's signature it carries, if any."""
    verdict = {h.line: h.signature for h in hits if h.category is category and h.location != "log"}
    return tuple(
        Evidence(line=s.line, text=s.text, score=round(s.score, 3), signature=verdict.get(s.line))
        for s in ranked[:EVIDENCE_LINES]
    )


def _summary(
    category: Category,
    step: Step,
    evidence: tuple[Evidence, ...],
    hits: list[SignatureHit],
    catalogue: Catalogue,
) -> str:
    summaries = {s.id: s.summary for s in (*catalogue.signatures, *catalogue.commands)}
    lead = next((summaries[e.signature] for e in evidence if e.signature), None)
    if lead is None:
        lead = next(
            (
                summaries[h.signature]
                for h in hits
                if h.category is category and summaries[h.signature]
            ),
            None,
        )
    what = lead or DESCRIPTIONS[category]
    where = f" in step `{step.command or step.name}`"
    if step.exit_code is not None:
        where += f" (exit code {step.exit_code})"
    first = f"; line {evidence[0].line}: {evidence[0].text.strip()[:160]}" if evidence else ""
    return f"{what[:1].upper()}{what[1:]}{where}{first}"
