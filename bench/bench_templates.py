"""Our Drain template miner (recoverops.logs.templates) against the drain3 package, on real logs.

    .venv/bin/python bench/bench_templates.py [--data /work/shared/data] [--runs 5]

As the analyzer uses a miner: one new miner per log, over the log's last --window lines (cleaned:
ANSI codes removed, text after the last carriage return). Both miners get the same lines, the
same Drain parameters (similarity 0.5, depth 4, max children 100) and the same masks (ours given
to drain3 as its masking instructions). Figures:

- lines/s: median of --runs timed passes over all logs, the two miners alternating;
- templates: clusters at the end, summed over logs;
- peak memory: tracemalloc peak while mining the largest log (a separate, untimed pass);
- agreement: adjusted Rand index of the two groupings of the lines (clusters never span logs);
- rare chunk lines: on LogChunks, the share of the hand-labelled failure-chunk lines whose
  cluster holds at most 2 lines of its log, next to the share of all non-blank lines that are
  rare; a miner that tells the failure apart from boilerplate puts chunk lines well above it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from _corpus import Log, load  # noqa: E402

from recoverops.logs.templates import MASK_PATTERNS, TemplateMiner, mine  # noqa: E402

SIMILARITY, DEPTH, MAX_CHILDREN = 0.5, 4, 100
RARE = 2

# A miner run over one log: (cluster label per line, size of that line's cluster, clusters).
Result = tuple[list[Any], list[int], int]


def ours(lines: Sequence[str]) -> Result:
    # Final template per line: what the analyzer uses (`add` gives the template as it was then).
    templates = mine(lines, similarity=SIMILARITY, depth=DEPTH, max_children=MAX_CHILDREN)
    sizes = Counter(t.id for t in templates)  # clusters ending with the same text count as one
    return [t.id for t in templates], [sizes[t.id] for t in templates], len(sizes)


def ours_add(lines: Sequence[str]) -> None:
    # The timed pass: `add` per line, like drain3's `add_log_message`, returning a result each.
    miner = TemplateMiner(similarity=SIMILARITY, depth=DEPTH, max_children=MAX_CHILDREN)
    for line in lines:
        miner.add(line)


def drain3_factory() -> Callable[[Sequence[str]], Result]:
    from drain3 import TemplateMiner as Drain3Miner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.drain_sim_th = SIMILARITY
    config.drain_depth = DEPTH
    config.drain_max_children = MAX_CHILDREN
    config.masking_instructions = [
        MaskingInstruction(regex, token.strip("<>")) for token, _, regex in MASK_PATTERNS
    ]

    def drain3(lines: Sequence[str]) -> Result:
        miner = Drain3Miner(persistence_handler=None, config=config)
        ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
        clusters = miner.drain.id_to_cluster
        return ids, [clusters[i].size for i in ids], len(clusters)

    return drain3


def timed(miner: Callable[[Sequence[str]], object], logs: list[list[str]]) -> float:
    start = time.perf_counter()
    for lines in logs:
        miner(lines)
    return time.perf_counter() - start


def peak_kib(miner: Callable[[Sequence[str]], Result], lines: list[str]) -> float:
    tracemalloc.start()
    miner(lines)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024


def rare_shares(
    logs: list[Log], windows: list[list[str]], results: list[Result]
) -> tuple[float, float, int]:
    """(share of labelled chunk lines that are rare, share of non-blank lines that are rare, n)."""
    chunk_rare = chunk_n = all_rare = all_n = 0
    for log, lines, (_, sizes, _) in zip(logs, windows, results, strict=True):
        for line, size in zip(lines, sizes, strict=True):
            text = line.strip()
            if not text:
                continue
            all_n += 1
            all_rare += size <= RARE
            if text in log.chunk:
                chunk_n += 1
                chunk_rare += size <= RARE
    return chunk_rare / max(chunk_n, 1), all_rare / max(all_n, 1), chunk_n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default, help="the shared data folder")
    parser.add_argument("--runs", type=int, default=5, help="timed passes per miner")
    parser.add_argument("--window", type=int, default=20_000, help="last lines of a log mined")
    args = parser.parse_args()

    data: Path = args.data
    if not (data / "bugswarm").is_dir() or not (data / "logchunks" / "logs").is_dir():
        print(
            f"error: no data at {data} (expected bugswarm/ and logchunks/logs/ in it); "
            "pass --data PATH to the shared data folder",
            file=sys.stderr,
        )
        return 2
    try:
        drain3 = drain3_factory()
        drain3_version = metadata.version("drain3")
    except ImportError:
        print("error: drain3 is not installed: .venv/bin/pip install drain3", file=sys.stderr)
        return 2

    bugswarm, logchunks = load(data)
    logs = bugswarm + logchunks
    windows = [log.lines[-args.window :] for log in logs]
    n_lines = sum(map(len, windows))
    print(
        f"{len(bugswarm)} BugSwarm + {len(logchunks)} LogChunks logs, {n_lines:,} lines "
        f"(last {args.window:,} per log); drain3 {drain3_version}; python {sys.version.split()[0]}"
    )

    miners = {"ours": ours, f"drain3 {drain3_version}": drain3}
    timed_pass: dict[str, Callable[[Sequence[str]], object]] = {
        "ours": ours_add,
        f"drain3 {drain3_version}": drain3,
    }
    seconds: dict[str, list[float]] = {name: [] for name in miners}
    for _ in range(args.runs):
        for name, miner in timed_pass.items():
            seconds[name].append(timed(miner, windows))

    largest = max(windows, key=len)
    results = {name: [miner(lines) for lines in windows] for name, miner in miners.items()}
    chunk_logs = [i for i, log in enumerate(logs) if log.chunk]

    rows: dict[str, dict[str, str]] = {}
    for name, miner in miners.items():
        rate = n_lines / statistics.median(seconds[name])
        chunk, base, n_chunk = rare_shares(
            [logs[i] for i in chunk_logs],
            [windows[i] for i in chunk_logs],
            [results[name][i] for i in chunk_logs],
        )
        memory = f"{peak_kib(miner, largest):,.0f} KiB"
        rows[name] = {
            "lines/s (median)": f"{rate:,.0f}",
            "templates (sum over logs)": f"{sum(r[2] for r in results[name]):,}",
            f"peak memory, largest log ({len(largest):,} lines)": memory,
            f"rare chunk lines (n={n_chunk})": f"{chunk:.1%}",
            "rare lines, all non-blank": f"{base:.1%}",
        }

    first, second = miners
    ratio = statistics.median(seconds[second]) / statistics.median(seconds[first])
    ari, per_log = agreement(results[first], results[second])
    width = max(len(k) for k in rows[first]) + 2
    print(f"\n{'':{width}}{first:>16}{second:>16}")
    for key in rows[first]:
        print(f"{key:{width}}{rows[first][key]:>16}{rows[second][key]:>16}")
    print(f"\n{first} is {ratio:.1f}x as fast as {second}")
    print(f"agreement: adjusted Rand index {ari:.3f} over all lines; median per log {per_log:.3f}")
    return 0


def adjusted_rand_index(a: Sequence[object], b: Sequence[object]) -> float:
    """Hubert and Arabie's ARI: 1 for identical groupings, about 0 for independent ones."""

    def pairs(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both, in_a, in_b = pairs(Counter(zip(a, b, strict=True))), pairs(Counter(a)), pairs(Counter(b))
    total = len(a) * (len(a) - 1) // 2
    expected = in_a * in_b / total if total else 0.0
    best = (in_a + in_b) / 2
    return 1.0 if best == expected else (both - expected) / (best - expected)


def agreement(a: list[Result], b: list[Result]) -> tuple[float, float]:
    """ARI over all lines (a cluster is keyed by its log), and the median of the per-log ARIs."""
    labels_a = [(i, x) for i, (ids, _, _) in enumerate(a) for x in ids]
    labels_b = [(i, x) for i, (ids, _, _) in enumerate(b) for x in ids]
    per_log = [adjusted_rand_index(x[0], y[0]) for x, y in zip(a, b, strict=True) if x[0]]
    return adjusted_rand_index(labels_a, labels_b), statistics.median(per_log)


if __name__ == "__main__":
    sys.exit(main())
