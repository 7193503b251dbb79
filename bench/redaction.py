"""Redaction on the shared real corpora: leaks, false positives, and what it costs.

1. Leaks: each BugSwarm failing log gets one secret planted (the kinds of
   `tests/planted_secrets.py` in turn), in its top evidence line and in a line of its own just
   below it, as a log that echoes a credential prints it. Every output is searched for any 8
   characters of the secret in a row: `analyze --json`'s object, the feature row (what the store
   and MLflow keep) and the human report with its context lines. The planted line must have left
   the analysis (else the log says nothing about redaction), and the analysis without masking must
   pick the same category, confidence and evidence lines.
2. False positives: every line of every corpus log (BugSwarm failing and passing, LogChunks, the
   infrastructure logs) through the redactor, and every evidence and chunk line the detector
   outputs for the BugSwarm failing logs: how many it masks, each listed to be judged by eye
   (these corpora hold no planted secret, so a masked line is a credential the log printed, or a
   false positive).
3. Cost: the redactor over every line of the logs against one regex search over the same lines
   (the baseline of `bench/speed.py`), which says whether the whole log could be masked in the
   hot path; and `analyze_text` with and without masking its output, per log.

    .venv/bin/python bench/redaction.py [--data ../shared/data] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from unittest.mock import patch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recoverops import detector  # noqa: E402
from recoverops.analysis import Analysis  # noqa: E402
from recoverops.detector import analyze_text  # noqa: E402
from recoverops.logs.document import clean_line  # noqa: E402
from recoverops.models.features import feature_row  # noqa: E402
from recoverops.redaction import Redactor, secret_kinds  # noqa: E402
from recoverops.report import render_report  # noqa: E402
from tests.planted_secrets import KINDS, leaks, plant  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
BASELINE = re.compile(r"error|fail", re.I).search


class _Unmasked(Redactor):
    def __call__(self, line: str) -> str:
        return line


def _unmasked(analyze: Callable[[], Analysis]) -> Analysis:
    with patch.object(detector, "Redactor", _Unmasked):
        return analyze()


def _picks(analysis: Analysis) -> object:
    return (analysis.category, analysis.confidence, [e.line for e in analysis.evidence])


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


@dataclass
class Leaks:
    logs: int = 0
    kinds: int = 0
    planted_line_shown: int = 0  # logs whose planted line left the analysis (masked)
    leaks: int = 0
    leaked: list[str] = field(default_factory=list)
    picks_changed: int = 0  # logs whose category, confidence or evidence lines masking changed


@dataclass
class Masked:
    lines: int = 0
    masked: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    masked_lines: list[str] = field(default_factory=list)
    output_lines: int = 0  # evidence and chunk lines of the BugSwarm failing logs
    output_masked: int = 0


@dataclass
class Cost:
    lines: int
    regex_s: float
    redactor_s: float
    analyze_ms: float
    analyze_unmasked_ms: float
    masking_ms: float


def leak_check(logs: list[Path]) -> Leaks:
    found = Leaks()
    kinds: set[str] = set()
    for index, path in enumerate(logs):
        kind = KINDS[index % len(KINDS)]
        planted = plant(kind)
        text = _read(path)
        top = analyze_text(text).evidence
        if not top:
            continue
        lines = text.split("\n")
        line = lines[top[0].line - 1]
        end = "\r" if line.endswith("\r") else ""  # after a CR a terminal shows only what follows
        lines[top[0].line - 1] = f"{line.removesuffix(end)} ({planted.line}){end}"
        lines.insert(top[0].line, planted.line + end)
        text = "\n".join(lines)
        analysis = analyze_text(text)
        found.logs += 1
        kinds.add(kind)
        outputs = (
            json.dumps(analysis.to_json(), ensure_ascii=False)
            + json.dumps(feature_row(analysis), ensure_ascii=False)
            + render_report(name=path.name, text=text, analysis=analysis)
        )
        found.planted_line_shown += "[redacted]" in outputs
        if leaks(planted.secret, outputs):
            found.leaks += 1
            found.leaked.append(f"{path.parent.name} ({kind})")
        unmasked = _unmasked(partial(analyze_text, text))
        found.picks_changed += _picks(unmasked) != _picks(analysis)
    found.kinds = len(kinds)
    return found


def false_positives(files: list[Path], failing: list[Path]) -> Masked:
    found = Masked()
    kinds: Counter[str] = Counter()
    for path in files:
        text = _read(path)
        redact = Redactor.for_log(text)
        for raw in text.split("\n"):
            line = clean_line(raw)
            found.lines += 1
            if redact(line) != line:
                found.masked += 1
                kinds.update(secret_kinds(line) or ("private-key",))
                found.masked_lines.append(f"{path.relative_to(path.parents[2])}: {line[:160]}")
    found.by_kind = dict(kinds)
    for path in failing:
        analysis = analyze_text(_read(path))
        texts = [e.text for e in analysis.evidence] + list(analysis.chunk)
        found.output_lines += len(texts)
        found.output_masked += sum("[redacted]" in t for t in texts)
    return found


def cost(files: list[Path], failing: list[Path]) -> Cost:
    texts = [_read(p) for p in files]
    cleaned = [[clean_line(raw) for raw in t.split("\n")] for t in texts]
    start = time.perf_counter()
    for lines in cleaned:
        for line in lines:
            BASELINE(line)
    regex = time.perf_counter() - start
    start = time.perf_counter()
    for text, lines in zip(texts, cleaned, strict=True):
        redact = Redactor.for_log(text)
        for line in lines:
            redact(line)
    whole = time.perf_counter() - start
    masked: list[float] = []
    unmasked: list[float] = []
    for path in failing:
        text = _read(path)
        analyze_text(text)  # warm-up
        start = time.perf_counter()
        analyze_text(text)
        masked.append(time.perf_counter() - start)
        start = time.perf_counter()
        _unmasked(partial(analyze_text, text))
        unmasked.append(time.perf_counter() - start)
    return Cost(
        lines=sum(len(c) for c in cleaned),
        regex_s=regex,
        redactor_s=whole,
        analyze_ms=statistics.median(masked) * 1e3,
        analyze_unmasked_ms=statistics.median(unmasked) * 1e3,
        masking_ms=statistics.median(a - b for a, b in zip(masked, unmasked, strict=True)) * 1e3,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0, help="at most N failing logs (0: all)")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    data: Path = args.data
    failing = sorted((data / "bugswarm").glob("*/failing.log"))
    if args.limit:
        failing = failing[: args.limit]
    if not failing:
        raise SystemExit(f"redaction: no BugSwarm failing logs under {data}")
    files = sorted((data / "bugswarm").glob("*/*.log"))
    files += sorted(p for p in (data / "logchunks" / "logs").rglob("*") if p.is_file())
    files += sorted(p for p in (data / "infra").rglob("*") if p.is_file() and p.suffix != ".md")
    spent = cost(files, failing)
    leak = leak_check(failing)
    fp = false_positives(files, failing)
    if args.json:
        print(json.dumps({"leaks": asdict(leak), "masked": asdict(fp), "cost": asdict(spent)}))
        return 0
    print(
        f"Leaks: {leak.logs} BugSwarm failing logs, {leak.kinds} kinds planted in turn: the "
        f"planted line left the analysis (masked) for {leak.planted_line_shown}; "
        f"{leak.leaks} leaked; masking changed the picks of {leak.picks_changed}"
    )
    for name in leak.leaked:
        print(f"  leaked: {name}")
    print(
        f"Masked on the clean corpora: {fp.masked} of {fp.lines:,} lines {fp.by_kind}; "
        f"{fp.output_masked} of the {fp.output_lines:,} evidence and chunk lines the detector "
        "gives for the BugSwarm failing logs"
    )
    for line in fp.masked_lines:
        print(f"  {line}")
    print(
        f"Cost: the redactor over every line of {spent.lines:,} lines {spent.redactor_s:.1f} s, "
        f"one regex search {spent.regex_s:.2f} s ({spent.redactor_s / spent.regex_s:.0f}x, "
        f"{spent.redactor_s / spent.lines * 1e6:.0f} us a line); analyze_text per failing log, "
        f"median {spent.analyze_ms:.1f} ms masked, {spent.analyze_unmasked_ms:.1f} ms unmasked, "
        f"masking {spent.masking_ms:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
