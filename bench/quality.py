"""Quality of the rule-based analysis on the shared real corpora, split by project.

BugSwarm: per-class precision, recall and F1 and macro-F1 over build.test, build.lint,
build.compilation and build.dependency (the data README's label mapping; Unknown and the unmapped
labels left out), with the expected calibration error of the confidence. LogChunks: how often the
first (and any of the top 3 / top 5) evidence lines fall on the hand-labelled failure chunk.

Projects (BugSwarm) and repositories (LogChunks) are on the side `recoverops.sides.side_of` puts
them on: dev (signatures and the line ranker are written and tuned looking only at these; --verbose
lists dev misses, never another side's), validation (read in aggregate, to choose between
alternatives) and test (reported in aggregate only; printed with --test, not while tuning).

    .venv/bin/python bench/quality.py [--data ../shared/data] [--json] [--verbose] [--test]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _corpus import _chunks

from recoverops.detector import analyze_text
from recoverops.logs.document import clean_line
from recoverops.sides import SIDES, side_of
from recoverops.training.evaluate import expected_calibration_error
from recoverops.training.line_ranker import on_chunk

LABELS = ("build.test", "build.lint", "build.compilation", "build.dependency")


def prf(gold: list[str], pred: list[str]) -> dict[str, Any]:
    per_class: dict[str, dict[str, float]] = {}
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "n": tp + fn}
    macro = sum(float(c["f1"]) for c in per_class.values()) / len(LABELS)
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / max(1, len(gold))
    return {"n": len(gold), "macro_f1": macro, "accuracy": accuracy, "per_class": per_class}


def reliability(confidences: list[float], correct: list[bool]) -> list[tuple[str, int, float]]:
    """(confidence bin, logs, accuracy) for the bins that hold any log."""
    table = []
    for lo, hi in ((0.0, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)):
        idx = [i for i, c in enumerate(confidences) if lo <= c < hi]
        if idx:
            accuracy = sum(correct[i] for i in idx) / len(idx)
            table.append((f"{lo:.1f}-{min(hi, 1.0):.1f}", len(idx), accuracy))
    return table


def bugswarm(data: Path, *, verbose: bool, passing: bool = False) -> dict[str, Any]:
    rows = [
        r for r in csv.DictReader((data / "bugswarm" / "index.csv").open()) if r["suggested_label"]
    ]
    by_side: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        text = (
            (data / "bugswarm" / row["artifact"] / "failing.log")
            .read_bytes()
            .decode("utf-8", errors="replace")
        )
        passing_log = data / "bugswarm" / row["artifact"] / "passing.log"
        if passing and passing_log.is_file():
            previous = passing_log.read_bytes().decode("utf-8", errors="replace")
            analysis = analyze_text(text, passing_text=previous)
        else:
            analysis = analyze_text(text)
        for part in (side_of(row["project"]), "all"):
            bucket = by_side[part]
            bucket["gold"].append(row["suggested_label"])
            bucket["pred"].append(analysis.category.value)
            bucket["conf"].append(analysis.confidence)
        if (
            verbose
            and analysis.category.value != row["suggested_label"]
            and side_of(row["project"]) == "dev"
        ):
            first = analysis.evidence[0].text[:110] if analysis.evidence else "-"
            print(
                f"  MISS {row['artifact']}: gold={row['suggested_label']} "
                f"pred={analysis.category.value} ({analysis.confidence}) {first}",
                file=sys.stderr,
            )
    report: dict[str, Any] = {}
    for part, bucket in by_side.items():
        scores = prf(bucket["gold"], bucket["pred"])
        correct = [g == p for g, p in zip(bucket["gold"], bucket["pred"], strict=True)]
        # Confidence is the probability that the stated category is right. Every log here has a
        # known label, so `unknown` is never right: calibration is measured on the logs given a
        # category, and how often the engine abstains is reported beside it.
        named = [i for i, p in enumerate(bucket["pred"]) if p != "unknown"]
        scores["ece"] = expected_calibration_error(
            [correct[i] for i in named], [bucket["conf"][i] for i in named]
        )
        scores["abstained"] = 1 - len(named) / max(1, len(correct))
        scores["reliability"] = reliability(
            [bucket["conf"][i] for i in named], [correct[i] for i in named]
        )
        scores["confusion"] = Counter(
            f"{g} -> {p}" for g, p in zip(bucket["gold"], bucket["pred"], strict=True) if g != p
        )
        report[part] = scores
    return report


def on_labelled_chunk(line: str, chunk: frozenset[str]) -> bool:
    """Whether a log line is one of the chunk's lines (the ranker's training uses the same test)."""
    return bool(on_chunk(clean_line(line), chunk))


def logchunks(data: Path, *, verbose: bool) -> dict[str, Any]:
    chunks = _chunks(data)
    logs = data / "logchunks" / "logs"
    hits: dict[str, Counter[str]] = defaultdict(Counter)
    for rel, chunk in sorted(chunks.items()):
        if not chunk:
            continue
        repo = rel.split("/")[1]
        text = (logs / rel).read_bytes().decode("utf-8", errors="replace")
        analysis = analyze_text(text)
        on_chunk = [on_labelled_chunk(e.text, chunk) for e in analysis.evidence]
        for part in (side_of(repo), "all"):
            hits[part]["n"] += 1
            hits[part]["top1"] += bool(on_chunk[:1] and on_chunk[0])
            hits[part]["top3"] += any(on_chunk[:3])
            hits[part]["top5"] += any(on_chunk[:5])
        if verbose and not (on_chunk[:1] and on_chunk[0]) and side_of(repo) == "dev":
            first = analysis.evidence[0].text[:100] if analysis.evidence else "-"
            print(f"  CHUNK-MISS {rel}: {first}", file=sys.stderr)
    return {
        part: {k: (v / c["n"] if k != "n" else v) for k, v in c.items()} for part, c in hits.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list the dev-side misses")
    parser.add_argument("--test", action="store_true", help="also print the test side")
    parser.add_argument(
        "--passing",
        action="store_true",
        help="give the analyzer a BugSwarm job's passing log where the corpus has one",
    )
    args = parser.parse_args()
    if not (args.data / "bugswarm" / "index.csv").is_file():
        print(
            f"no corpus at {args.data} (expected bugswarm/index.csv): pass --data", file=sys.stderr
        )
        return 2
    report = {
        "bugswarm": bugswarm(args.data, verbose=args.verbose, passing=args.passing),
        "logchunks": logchunks(args.data, verbose=args.verbose),
    }
    shown = [part for part in (*SIDES, "all") if args.test or part not in ("test", "all")]
    report = {
        corpus: {part: figures for part, figures in parts.items() if part in shown}
        for corpus, parts in report.items()
    }
    if args.json:
        print(json.dumps(report, indent=1, default=dict))
        return 0
    for part in shown:
        b = report["bugswarm"][part]
        print(
            f"BugSwarm {part:10}: n={b['n']:3} macro-F1={b['macro_f1']:.3f} "
            f"accuracy={b['accuracy']:.3f} ECE={b['ece']:.3f} (of the logs given a category; "
            f"abstained on {b['abstained']:.1%})"
        )
        if part in ("test", "all"):
            continue  # reported in aggregate only
        bins = "  ".join(f"{r}: {acc:.2f} (n={n})" for r, n, acc in b["reliability"])
        print(f"    accuracy by confidence: {bins}")
        for label, c in b["per_class"].items():
            p, r, f1 = c["precision"], c["recall"], c["f1"]
            print(f"    {label:18} P={p:.2f} R={r:.2f} F1={f1:.2f} n={c['n']}")
        for pair, count in b["confusion"].most_common(6):
            print(f"    confused {pair}: {count}")
    for part in shown:
        c = report["logchunks"][part]
        print(
            f"LogChunks {part:10}: n={c['n']:3} first-evidence-on-chunk={c['top1']:.3f} "
            f"top3={c['top3']:.3f} top5={c['top5']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
