"""How well "what changed" (the failing log's lines that are new against the last passing run)
keeps what the developers' fix relates to, and how much of the log it takes away (issue 15).

On the BugSwarm artifacts that ship the passing run's log (about a third), split by project with
`recoverops.sides.side_of`:

  related kept   among artifacts whose failing log names a file the real fix changed (its file
                 name, or a class or module name of 5+ characters as a word), the share where at
                 least one such line is a new line
  evidence kept  the share where the analysis's first evidence line is a new line
  removed        the share of the failing log's printed lines the diff takes away (median)

for three diffs: the templates of `recoverops.logs.what_changed` (masked text, then the Drain
templates mined from the passing log), the masked text alone, and the raw cleaned text.

    .venv/bin/python bench/what_changed.py [--data ../shared/data] [--verbose]   dev, validation
    .venv/bin/python bench/what_changed.py --test                                the test side too
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from recoverops.detector import analyze_text
from recoverops.logs.document import LogDocument
from recoverops.logs.templates import mask
from recoverops.logs.what_changed import PassingLog
from recoverops.sides import side_of

_CHANGED = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.MULTILINE)
Diff = Callable[[str, str], set[int]]


def changed_files(patch: str) -> list[str]:
    return list(dict.fromkeys(b for _, b in _CHANGED.findall(patch)))


def fix_words(changed: list[str]) -> list[re.Pattern[str]]:
    """What a log line says when it names a changed file: its name, or its stem as a word."""
    words: list[re.Pattern[str]] = []
    for path in changed:
        name = PurePosixPath(path).name
        stem = PurePosixPath(path).stem
        words.append(re.compile(re.escape(name)))
        if len(stem) >= 5:
            words.append(re.compile(rf"\b{re.escape(stem)}\b"))
    return words


def printed(text: str) -> list[tuple[int, str]]:
    doc = LogDocument(text)
    return [(n, doc.clean(n)) for n in range(1, len(doc) + 1) if doc.clean(n).strip()]


def by_templates(failing: str, passing: str) -> set[int]:
    # Every new line, not one per template: a related line repeated is still kept.
    log = PassingLog(passing)
    return {n for n, line in printed(failing) if not log.printed(line)}


def by_mask(failing: str, passing: str) -> set[int]:
    seen = {mask(line) for _, line in printed(passing)}
    return {n for n, line in printed(failing) if mask(line) not in seen}


def by_text(failing: str, passing: str) -> set[int]:
    seen = {line for _, line in printed(passing)}
    return {n for n, line in printed(failing) if line not in seen}


DIFFS: dict[str, Diff] = {"templates": by_templates, "mask": by_mask, "raw": by_text}


def evaluate(data: Path, *, sides: tuple[str, ...], verbose: bool) -> dict[str, dict[str, Any]]:
    rows = list(csv.DictReader((data / "bugswarm" / "index.csv").open()))
    tally: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        side = side_of(row["project"])
        folder = data / "bugswarm" / row["artifact"]
        if side not in sides or not (folder / "passing.log").is_file():
            continue
        failing = (folder / "failing.log").read_bytes().decode("utf-8", errors="replace")
        passing = (folder / "passing.log").read_bytes().decode("utf-8", errors="replace")
        patch = (folder / "patch.diff").read_text("utf-8", errors="replace")
        words = fix_words(changed_files(patch))
        lines = printed(failing)
        related = {n for n, line in lines if any(w.search(line) for w in words)}
        analysis = analyze_text(failing)
        first = analysis.evidence[0].line if analysis.evidence else None
        t = tally[side]
        t["n"].append(1)
        for name, diff in DIFFS.items():
            new = diff(failing, passing)
            t[f"{name}:removed"].append(1 - len(new) / max(1, len(lines)))
            if related:
                t[f"{name}:related"].append(bool(related & new))
            if first is not None:
                t[f"{name}:evidence"].append(first in new)
            if verbose and side == "dev" and name == "templates" and related and not related & new:
                print(f"  miss {row['artifact']}: related lines {sorted(related)[:5]} all old")
    return tally


def report(tally: dict[str, dict[str, Any]]) -> None:
    for side, t in tally.items():
        print(f"{side}: {len(t['n'])} artifacts with a passing log")
        for name in DIFFS:
            related, evidence = t[f"{name}:related"], t[f"{name}:evidence"]
            print(
                f"  {name:9} related kept {sum(related)}/{len(related)}"
                f" ({sum(related) / max(1, len(related)):.2f}),"
                f" evidence kept {sum(evidence)}/{len(evidence)}"
                f" ({sum(evidence) / max(1, len(evidence)):.2f}),"
                f" removed median {statistics.median(t[f'{name}:removed']):.3f}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
    parser.add_argument(
        "--test", action="store_true", help="also the test side (report only; never tune on it)"
    )
    parser.add_argument("--verbose", action="store_true", help="list the dev side's misses")
    args = parser.parse_args(argv)
    if not (args.data / "bugswarm" / "index.csv").is_file():
        parser.error(f"no BugSwarm data under {args.data}")
    sides = ("dev", "validation", "test") if args.test else ("dev", "validation")
    tally = evaluate(args.data, sides=sides, verbose=args.verbose and not args.test)
    report({side: tally[side] for side in sides if side in tally})
    return 0


if __name__ == "__main__":
    sys.exit(main())
