"""Quality of the analysis on the labelled deploy / infra / security corpus (`corpus/`), by side.

Each text is real output from a public repository or issue thread (sources in its folder's
`labels.csv`), labelled with its taxonomy category and the line an SRE would point to (`evidence`);
`corpus/unknown/` holds real output that is not a failure. Texts are split by the repository they
came from (`recoverops.sides`): signatures are written looking at dev only, validation is read in
aggregate to choose between alternatives, and test is reported, in aggregate only.

Printed per side:
    macro-F1        over the categories the side's failures are labelled with (`unknown` is not a
                    failure category: answering it on a failure costs that category recall)
    family          share of failures whose family (deploy, infra, security) is right
    unknown         share of failures answered `unknown` (goal ≤ 5%), and of non-failures
                    answered `unknown` (should be all)
    ECE             expected calibration error of the confidence, over the failures given a
                    category
    evidence@1      share of failures whose first evidence line is the labelled line
    per category    precision, recall, F1, n

    .venv/bin/python bench/corpus_quality.py [--corpus corpus] [--model | --rules-only]
                                             [--json] [--verbose] [--test]

The test side is only printed with --test: look at it to report, not while tuning.

--verbose lists the dev side's misses, one per line (never another side's); --list-dev lists the
dev side's texts (the only ones to open when writing signatures).
--model combines the rules with the `@champion` under RECOVEROPS_HOME, as `recoverops analyze` does.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.sides import SIDES, side_of
from recoverops.taxonomy import Category
from recoverops.training.evaluate import expected_calibration_error

ROOT = Path(__file__).resolve().parents[1]
UNKNOWN = Category.UNKNOWN.value


@dataclass(frozen=True)
class Text:
    path: Path
    category: str
    group: str
    evidence: frozenset[int]

    @property
    def side(self) -> str:
        return side_of(self.group)

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"


def load_texts(corpus: Path) -> list[Text]:
    texts = []
    for labels in sorted(corpus.glob("*/labels*.csv")):
        with labels.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                lines = {int(n) for n in (row.get("evidence") or "").split(";") if n.strip()}
                texts.append(
                    Text(
                        path=labels.parent / row["file"],
                        category=row["category"],
                        group=row["group"],
                        evidence=frozenset(lines),
                    )
                )
    return texts


def analyzer(with_model: bool, rules_only: bool = False) -> Any:
    """What `recoverops analyze` answers (the rules, the shipped word model where they abstain),
    the rules alone, or the rules refined by the champion as `recoverops analyze` does with one."""
    if rules_only:
        return lambda text: analyze_text(text, word_model=False)
    if not with_model:
        return analyze_text
    from recoverops.cli.analyze import _champion
    from recoverops.settings import Settings

    champion = _champion(Settings())
    if champion is None:
        raise SystemExit("no @champion under RECOVEROPS_HOME: train one with `recoverops train`")
    return lambda text: champion(analyze_text(text))


def scores(rows: list[tuple[Text, Analysis]]) -> dict[str, Any]:
    failures = [(t, a) for t, a in rows if t.category != UNKNOWN]
    quiet = [(t, a) for t, a in rows if t.category == UNKNOWN]
    labels = sorted({t.category for t, _ in failures})
    per: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(t.category == label and a.category.value == label for t, a in rows)
        fp = sum(t.category != label and a.category.value == label for t, a in rows)
        fn = sum(t.category == label and a.category.value != label for t, a in rows)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[label] = {"precision": precision, "recall": recall, "f1": f1, "n": tp + fn}
    named = [(t, a) for t, a in failures if a.category is not Category.UNKNOWN]
    with_line = [(t, a) for t, a in failures if t.evidence]
    right = sum(t.category == a.category.value for t, a in failures)
    first_right = sum(bool(a.evidence) and a.evidence[0].line in t.evidence for t, a in with_line)
    top3_right = sum(any(e.line in t.evidence for e in a.evidence[:3]) for t, a in with_line)
    return {
        "n": len(failures),
        "non_failures": len(quiet),
        "macro_f1": sum(c["f1"] for c in per.values()) / max(1, len(per)),
        "accuracy": right / max(1, len(failures)),
        "family": sum(t.category.split(".")[0] == a.category.family for t, a in failures)
        / max(1, len(failures)),
        "unknown_on_failures": 1 - len(named) / max(1, len(failures)),
        "unknown_on_non_failures": sum(a.category is Category.UNKNOWN for _, a in quiet)
        / max(1, len(quiet)),
        "ece": expected_calibration_error(
            [t.category == a.category.value for t, a in named], [a.confidence for _, a in named]
        ),
        "evidence_at_1": first_right / max(1, len(with_line)),
        "evidence_at_3": top3_right / max(1, len(with_line)),
        "per_class": per,
        "confusion": Counter(
            f"{t.category} -> {a.category.value}" for t, a in rows if t.category != a.category.value
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--model", action="store_true", help="rules and the @champion combined")
    parser.add_argument(
        "--rules-only", action="store_true", help="the signatures alone, without the word model"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list the dev side's misses")
    parser.add_argument("--list-dev", action="store_true", help="list the dev side's texts")
    parser.add_argument("--test", action="store_true", help="also print the test side")
    args = parser.parse_args()
    texts = load_texts(args.corpus)
    if not texts:
        print(f"no labelled texts under {args.corpus} (expected */labels*.csv)", file=sys.stderr)
        return 2
    if args.list_dev:
        for text in texts:
            if text.side == "dev":
                print(f"{text.path}\t{text.category}\tevidence={sorted(text.evidence)}")
        return 0
    analyze = analyzer(args.model, args.rules_only)
    by_side: dict[str, list[tuple[Text, Analysis]]] = defaultdict(list)
    for text in texts:
        analysis = analyze(text.path.read_bytes().decode("utf-8", errors="replace"))
        by_side[text.side].append((text, analysis))
        by_side["all"].append((text, analysis))
        if args.verbose and text.side == "dev":
            wrong = text.category != analysis.category.value
            first = analysis.evidence[0] if analysis.evidence else None
            off = text.evidence and (first is None or first.line not in text.evidence)
            if wrong or off:
                shown = f"{first.line}: {first.text.strip()[:90]}" if first else "-"
                print(
                    f"  {'MISS' if wrong else 'LINE'} {text.name}: gold={text.category} "
                    f"pred={analysis.category.value} ({analysis.confidence:.2f}) "
                    f"want line {sorted(text.evidence)} got {shown}",
                    file=sys.stderr,
                )
    sides = [side for side in by_side if args.test or side not in ("test", "all")]
    report = {side: scores(by_side[side]) for side in sides}
    if args.json:
        print(json.dumps(report, indent=1, default=dict))
        return 0
    for side in (*SIDES, "all"):
        if side not in report:
            continue
        s = report[side]
        print(
            f"{side:10} failures={s['n']:3} macro-F1={s['macro_f1']:.3f} "
            f"accuracy={s['accuracy']:.3f} family={s['family']:.3f} "
            f"unknown={s['unknown_on_failures']:.1%} ECE={s['ece']:.3f} "
            f"evidence@1={s['evidence_at_1']:.3f} @3={s['evidence_at_3']:.3f}; "
            f"non-failures={s['non_failures']} answered unknown {s['unknown_on_non_failures']:.0%}"
        )
        if side == "test":
            continue  # reported in aggregate only
        for label, c in s["per_class"].items():
            print(
                f"    {label:24} P={c['precision']:.2f} R={c['recall']:.2f} "
                f"F1={c['f1']:.2f} n={c['n']}"
            )
        for pair, count in s["confusion"].most_common(8):
            print(f"    confused {pair}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
