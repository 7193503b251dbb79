"""Training cost of the failure model for 2,000 logs: featurization, fit time and peak memory.

The shared corpora hold 570 distinct logs (BugSwarm: 262 failing and 87 passing; LogChunks: 221).
The 2,000-log training set is built from them honestly, and the output says how:

- featurization (the detector on each log, then `feature_row`) is timed log by log, in this
  process, on one core, over all 570 distinct logs; the 2,000-log figure is the sum of the
  per-log times over the 570 logs cycled to 2,000 (each log counted 3 or 4 times), which is what
  a single worker would spend. Median of --runs passes.
- fitting reads 2,000 rows: the 570 feature rows cycled. Each row's label is its corpus label
  where it has one, else the rules' verdict (passing logs and LogChunks have no label), so the
  fit sees more classes than the four build ones, as a store of confirmed incidents would. Each
  fit runs in a fresh child process, which reports its wall time and its peak RSS (ru_maxrss)
  before and after fitting. Median of --runs children per learner.
- baseline, measured in the same run the same way: a plain TF-IDF (words) + logistic regression
  on the same chunk text, no calibration; figures are also given as a ratio to it.

    .venv/bin/python bench/ml_train.py [--data ../shared/data] [--logs 2000] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

import pandas as pd

from recoverops.detector import analyze_text
from recoverops.models.features import FEATURE_COLUMNS, feature_row
from recoverops.training.datasets import DatasetError, LogExample, corpus_examples

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WAYS = {
    "model": "FailureModel() default: linear + rules' scores and verdict, temperature, novelty",
    "model-alone": "FailureModel(use_rules=False)",
    "boosting": "FailureModel(learner='boosting')",
    "baseline": "TF-IDF (words) + LogisticRegression on the chunk, no calibration",
}


def all_logs(data: Path) -> list[LogExample]:
    """Every distinct log: the corpora's examples and the BugSwarm passing logs."""
    examples: list[LogExample] = corpus_examples(data)
    passing = sorted((data / "bugswarm").glob("*/passing.log"))
    examples += [
        LogExample(
            example_id=f"bugswarm-passing/{p.parent.name}",
            project=p.parent.name,
            source="bugswarm-passing",
            label=None,
            path=p,
        )
        for p in passing
    ]
    return examples


def featurize_timed(examples: list[LogExample]) -> tuple[pd.DataFrame, list[float]]:
    rows, seconds = [], []
    for example in examples:
        text = example.path.read_bytes().decode("utf-8", errors="replace")
        started = time.perf_counter()
        row = feature_row(analyze_text(text))
        seconds.append(time.perf_counter() - started)
        row["label"] = example.label or row["rule_category"]
        rows.append(row)
    return pd.DataFrame(rows), seconds


def child(rows_path: Path, way: str) -> None:
    """Fit one learner on the pickled rows; print wall time and peak RSS as JSON."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from recoverops.models.classifier import FailureModel, ModelConfig

    rows: pd.DataFrame = pickle.loads(rows_path.read_bytes())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if way == "baseline":
        make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=2000)).fit(
            rows["chunk"], rows["label"]
        )
    else:
        config = {
            "model": ModelConfig(),
            "model-alone": ModelConfig(use_rules=False),
            "boosting": ModelConfig(learner="boosting"),
        }[way]
        FailureModel(config).fit(rows[list(FEATURE_COLUMNS)], list(rows["label"]))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_before_kib": before, "rss_peak_kib": after}))


def fit_in_child(rows_path: Path, way: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(rows_path), "--way", way],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"fitting {way} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--logs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ways", nargs="*", default=list(WAYS), choices=list(WAYS))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--way", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.way)
        return 0
    if args.logs < 1 or args.runs < 1:
        parser.error("--logs and --runs must be at least 1")
    if not (args.data / "bugswarm" / "index.csv").is_file():
        print(
            f"no corpus at {args.data} (expected bugswarm/index.csv): pass --data", file=sys.stderr
        )
        return 2
    try:
        examples = all_logs(args.data)
    except DatasetError as error:
        print(f"cannot read the corpus: {error}", file=sys.stderr)
        return 2

    passes = []
    frame = pd.DataFrame()
    for _ in range(args.runs):
        frame, seconds = featurize_timed(examples)
        cycled = [seconds[i % len(seconds)] for i in range(args.logs)]
        passes.append({"total": sum(cycled), "per_log_median": median(seconds)})
    rows = frame.iloc[[i % len(frame) for i in range(args.logs)]].reset_index(drop=True)

    fits: dict[str, list[dict[str, Any]]] = {w: [] for w in args.ways}
    with tempfile.TemporaryDirectory() as tmp:
        rows_path = Path(tmp) / "rows.pkl"
        rows_path.write_bytes(pickle.dumps(rows))
        for _ in range(args.runs):  # interleaved, so load changes hit every learner alike
            for way in args.ways:
                fits[way].append(fit_in_child(rows_path, way))

    report: dict[str, Any] = {
        "distinct_logs": len(examples),
        "logs": args.logs,
        "runs": args.runs,
        "how": (
            f"{len(examples)} distinct logs (corpus examples + BugSwarm passing logs) cycled to "
            f"{args.logs}; labels: corpus label, else the rules' verdict "
            f"({rows['label'].nunique()} classes)"
        ),
        "featurize": {
            "seconds_total": median(p["total"] for p in passes),
            "ms_per_log_median": 1000 * median(p["per_log_median"] for p in passes),
            "how": "detector + feature_row per log, one process, one core; sum over the cycled set",
        },
        "fit": {},
    }
    baseline = median(f["seconds"] for f in fits["baseline"]) if "baseline" in fits else None
    for way, runs in fits.items():
        seconds = median(r["seconds"] for r in runs)
        report["fit"][way] = {
            "what": WAYS[way],
            "seconds": seconds,
            "seconds_min": min(r["seconds"] for r in runs),
            "seconds_max": max(r["seconds"] for r in runs),
            "peak_rss_mib": median(r["rss_peak_kib"] for r in runs) / 1024,
            "rss_growth_mib": median(r["rss_peak_kib"] - r["rss_before_kib"] for r in runs) / 1024,
            "x_baseline": seconds / baseline if baseline else None,
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Training on {args.logs} logs: {report['how']}.")
    f = report["featurize"]
    print(
        f"featurize: {f['seconds_total']:.1f} s for {args.logs} logs on one core "
        f"({f['ms_per_log_median']:.1f} ms median per log), median of {args.runs} passes"
    )
    print(f"fit (fresh child process each, median of {args.runs}):")
    print("  learner       seconds      [min-max]  x base  peak RSS   growth")
    for way, r in report["fit"].items():
        ratio = f"{r['x_baseline']:.1f}" if r["x_baseline"] else "-"
        print(
            f"  {way:<12} {r['seconds']:8.2f} {r['seconds_min']:6.2f}-{r['seconds_max']:<7.2f}"
            f" {ratio:>7} {r['peak_rss_mib']:7.0f}MiB {r['rss_growth_mib']:6.0f}MiB  {r['what']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
