"""Fit the line ranker the package ships (`recoverops.logs.ranker`).

    python -m recoverops.training.line_ranker --data ../shared/data --corpus corpus \
        --out recoverops/logs/line_ranker.json

Reads the dev side only (`recoverops.sides`; validation and test texts are never opened) of two
corpora: the LogChunks CI logs (a candidate is right when it is a line of the log's hand-labelled
failure chunk) and the labelled deploy / infra / security texts of `corpus/` (a candidate is right
when it is the line labelled as the evidence). Each text's candidates are taken as the detector
finds them (`recoverops.detector.evidence_candidates`, in the hand-written order).

The model is a linear score per line with a softmax over each text's candidates, fitted to put
the right lines first (the loss is minus the log of the probability mass on them), with an L2
penalty chosen by cross-validation grouped by repository, so that what is measured is how the
ranker does on repositories it was not fitted on. Each repository weighs as much as the square
root of its texts' count, so that the few repositories with many logs do not decide alone, and the
two corpora weigh the same.

The file written holds the feature names, the weights, and what grouped cross-validation measured
for the hand-written order and for the fitted ranker (first line and top 3 on the chunk).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from recoverops.detector import evidence_candidates
from recoverops.logs.document import clean_line
from recoverops.logs.ranker import INPUTS, Candidate
from recoverops.sides import side_of

L2_GRID = (0.001, 0.003, 0.01, 0.03, 0.1)
FOLDS = 5
# The chunk texts lost their ESC bytes, leaving e.g. "[31m" behind (the data README says so).
_ANSI_REMNANT = re.compile(r"\[[0-9;]*[mK]")


@dataclass(frozen=True)
class Example:
    corpus: str  # "logchunks" or "corpus"
    repository: str
    log: str
    features: np.ndarray  # candidates x the model's inputs, in the hand-written order
    right: np.ndarray  # candidates: on the labelled chunk


def labelled_chunks(data: Path) -> dict[str, frozenset[str]]:
    """LogChunks log path (relative to `logs/`) -> its labelled chunk's non-blank lines."""
    chunks: dict[str, frozenset[str]] = {}
    for xml in sorted((data / "logchunks" / "build-failure-reason").rglob("*.xml")):
        for example in ET.parse(xml).getroot().iter("Example"):
            log, chunk = example.findtext("Log") or "", example.findtext("Chunk") or ""
            lines = (_ANSI_REMNANT.sub("", clean_line(s)).strip() for s in chunk.split("\n"))
            chunks[log] = frozenset(s for s in lines if s)
    return chunks


def on_chunk(line: str, chunk: frozenset[str]) -> bool:
    """Whether a cleaned log line is one of the chunk's lines. A labeller sometimes started a
    chunk in the middle of a line (after a progress prefix), so a chunk line inside it counts."""
    text = _ANSI_REMNANT.sub("", line).strip()
    return text in chunk or (len(text) >= 8 and any(len(c) >= 8 and c in text for c in chunk))


def _example(
    corpus: str, repository: str, path: Path, right: Callable[[Candidate], bool]
) -> Example:
    text = path.read_bytes().decode("utf-8", errors="replace")
    found = evidence_candidates(text)
    return Example(
        corpus=corpus,
        repository=repository,
        log=str(path),
        features=np.array([c.inputs for c in found], dtype=float).reshape(len(found), len(INPUTS)),
        right=np.array([right(c) for c in found], dtype=bool),
    )


def _on(chunk: frozenset[str]) -> Callable[[Candidate], bool]:
    return lambda candidate: on_chunk(candidate.item.text, chunk)


def _at(lines: frozenset[int]) -> Callable[[Candidate], bool]:
    return lambda candidate: candidate.item.line in lines


def dev_examples(data: Path, corpus: Path | None = None) -> list[Example]:
    """The dev side's LogChunks logs (under `data`) and labelled texts (under `corpus`)."""
    examples = []
    for log, chunk in sorted(labelled_chunks(data).items()):
        repository = log.split("/")[1]
        if chunk and side_of(repository) == "dev":
            path = data / "logchunks" / "logs" / log
            examples.append(_example("logchunks", repository, path, _on(chunk)))
    for labels in sorted(corpus.glob("*/labels*.csv")) if corpus else ():
        with labels.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                lines = frozenset(int(n) for n in (row["evidence"] or "").split(";") if n.strip())
                if lines and row["category"] != "unknown" and side_of(row["group"]) == "dev":
                    path = labels.parent / row["file"]
                    examples.append(_example("corpus", row["group"], path, _at(lines)))
    return [e for e in examples if len(e.right)]


def _weights_of(examples: Sequence[Example]) -> list[float]:
    """Each text weighs 1 / sqrt(its repository's texts), and each corpus weighs as much in all
    as the other: a CI log and a deploy error are ranked by one model, which must serve both."""
    per_repository: dict[tuple[str, str], int] = defaultdict(int)
    for example in examples:
        per_repository[example.corpus, example.repository] += 1
    raw = [1.0 / math.sqrt(per_repository[e.corpus, e.repository]) for e in examples]
    per_corpus: dict[str, float] = defaultdict(float)
    for example, weight in zip(examples, raw, strict=True):
        per_corpus[example.corpus] += weight
    return [w / per_corpus[e.corpus] for e, w in zip(examples, raw, strict=True)]


def fit(examples: Sequence[Example], l2: float) -> np.ndarray:
    """The weights minimising the weighted listwise loss plus `l2` times their squared norm."""
    usable = [e for e in examples if e.right.any()]
    weights = _weights_of(usable)
    total = sum(weights)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = l2 * float(w @ w), 2 * l2 * w
        for example, weight in zip(usable, weights, strict=True):
            scores = example.features @ w
            scores -= scores.max()
            p = np.exp(scores)
            p /= p.sum()
            mass = float(p[example.right].sum())
            q = np.where(example.right, p, 0.0) / mass
            value += weight / total * -math.log(max(mass, 1e-12))
            grad += weight / total * (example.features.T @ (p - q))
        return value, grad

    start = np.zeros(len(INPUTS))
    start[INPUTS.index("hand")] = 1.0
    return np.asarray(minimize(loss, start, jac=True, method="L-BFGS-B").x)


def hits(examples: Sequence[Example], w: np.ndarray | None) -> tuple[float, float]:
    """(first line on the chunk, any of the top 3 on it), over the examples; `w=None` is the
    hand-written order (the candidates as given, tail lines last)."""
    first = top3 = 0
    for example in examples:
        if w is None:
            hand = example.features[:, INPUTS.index("hand")]
            order = np.argsort(-hand, kind="stable")
        else:
            order = np.argsort(-(example.features @ w), kind="stable")
        right = example.right[order]
        first += bool(right[:1].any())
        top3 += bool(right[:3].any())
    n = max(1, len(examples))
    return first / n, top3 / n


def grouped_folds(examples: Sequence[Example], folds: int) -> list[list[int]]:
    """Example indices per fold, every repository in one fold, folds of similar size."""
    by_repository: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        by_repository[example.repository].append(index)
    buckets: list[list[int]] = [[] for _ in range(folds)]
    for _, indices in sorted(by_repository.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        min(buckets, key=len).extend(indices)
    return buckets


def cross_validate(examples: Sequence[Example], l2: float) -> dict[str, tuple[float, float]]:
    """(first, top 3) per corpus, each text scored by a ranker fitted on the other folds."""
    ordered: list[Example] = []
    fitted: list[np.ndarray] = []
    for held in grouped_folds(examples, FOLDS):
        held_set = set(held)
        w = fit([e for i, e in enumerate(examples) if i not in held_set], l2)
        for i in held:
            ordered.append(examples[i])
            fitted.append(w)
    return {
        corpus: _hits_each(
            [(e, w) for e, w in zip(ordered, fitted, strict=True) if e.corpus == corpus]
        )
        for corpus in sorted({e.corpus for e in examples})
    }


def _hits_each(pairs: Sequence[tuple[Example, np.ndarray]]) -> tuple[float, float]:
    first = top3 = 0.0
    for example, w in pairs:
        f, t = hits([example], w)
        first += f
        top3 += t
    n = max(1, len(pairs))
    return first / n, top3 / n


def _by_corpus(examples: Sequence[Example]) -> dict[str, tuple[float, float]]:
    return {
        c: hits([e for e in examples if e.corpus == c], None)
        for c in sorted({e.corpus for e in examples})
    }


def _score(figures: dict[str, tuple[float, float]]) -> float:
    return sum(first + top3 for first, top3 in figures.values())


def train(data: Path, corpus: Path | None) -> dict[str, Any]:
    examples = dev_examples(data, corpus)
    repositories = len({e.repository for e in examples})
    counts = {c: sum(e.corpus == c for e in examples) for c in sorted({e.corpus for e in examples})}
    sys.stderr.write(f"dev: {counts} texts of {repositories} repositories\n")
    hand = _by_corpus(examples)
    sys.stderr.write(f"hand-written order: {_shown(hand)}\n")
    by_l2 = {}
    for l2 in L2_GRID:
        by_l2[l2] = cross_validate(examples, l2)
        sys.stderr.write(f"l2={l2}: grouped CV {_shown(by_l2[l2])}\n")
    best = max(L2_GRID, key=lambda l2: (_score(by_l2[l2]), -l2))
    w = fit(examples, best)
    return {
        "inputs": list(INPUTS),
        "weights": [round(float(x), 4) for x in w],
        "fitted_on": f"dev side (recoverops.sides): {counts} of {repositories} repositories",
        "l2": best,
        "grouped_cv": {
            "folds": FOLDS,
            "hand_written": _rounded(hand),
            "ranker": _rounded(by_l2[best]),
        },
        "command": (
            "python -m recoverops.training.line_ranker --data ../shared/data --corpus corpus "
            "--out recoverops/logs/line_ranker.json"
        ),
    }


def _shown(figures: dict[str, tuple[float, float]]) -> str:
    return "  ".join(f"{c}: first {f:.3f} top3 {t:.3f}" for c, (f, t) in figures.items())


def _rounded(figures: dict[str, tuple[float, float]]) -> dict[str, dict[str, float]]:
    return {c: {"first": round(f, 3), "top3": round(t, 3)} for c, (f, t) in figures.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="the folder holding logchunks/")
    parser.add_argument("--corpus", type=Path, help="the labelled texts folder (corpus/)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not (args.data / "logchunks" / "build-failure-reason").is_dir():
        sys.stderr.write(f"no LogChunks labels under {args.data}/logchunks\n")
        return 2
    model = train(args.data, args.corpus)
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    sys.stderr.write(f"wrote {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
