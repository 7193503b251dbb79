"""Speed and memory of `recoverops analyze`, as ratios against a baseline measured in the same run.

1. A large log that fails at its end (the BugSwarm passing logs concatenated in sorted order,
   repeated, then one failing log, `--lines` lines in all, written to a temporary folder), so
   that the analyzer reads its whole window in depth: `recoverops analyze FILE --json` as a
   whole process
   against a whole-process baseline, the same interpreter running one compiled regex over each
   line of the same file. The two commands alternate, after one warm-up each; the table gives the
   median wall time and the median peak RSS (max RSS of each child, from GNU time) of each, and
   the ratios. Goal: analyze within 3x the baseline's time.
2. A typical small log: `analyze_text` in-process on each BugSwarm failing log (median of
   `--small-runs` timings per log, after one warm-up), then the median, 90th percentile and
   maximum over the logs.
3. Template mining, ours against drain3 (lines/second): `bench/bench_templates.py` measures it;
   this script only points there.

These machines are noisy: compare ratios measured in one run, not times from different runs.

    .venv/bin/python bench/speed.py [--data ../shared/data] [--lines 500000] [--runs 5]
                                    [--small-runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

GOAL_RATIO = 3.0
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BASELINE = """\
import re, sys
search = re.compile(r"error|fail", re.I).search
count = 0
with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
    for line in log:
        if search(line):
            count += 1
print(count)
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_kib: int
    stdout: str
    inherited: bool  # the RSS may be this process's own peak (no GNU time)


def failing_logs(data: Path) -> list[Path]:
    return sorted((data / "bugswarm").glob("*/failing.log"))


def passing_logs(data: Path) -> list[Path]:
    return sorted((data / "bugswarm").glob("*/passing.log"))


def build_log(logs: Sequence[Path], lines: int, path: Path, *, last: Path) -> int:
    """Write `logs` concatenated in order, repeating, then `last`, `lines` lines in all (split on
    '\\n', bytes as given); return the bytes written. One log in memory at a time: this process's
    own peak memory stays small."""
    tail = last.read_bytes()
    lines -= tail.count(b"\n")
    written = size = 0
    with path.open("wb") as out:
        while written < lines:
            before = written
            for log in logs:
                parts = log.read_bytes().split(b"\n")
                if parts and parts[-1] == b"":
                    parts.pop()
                del parts[lines - written :]
                if parts:
                    chunk = b"\n".join(parts) + b"\n"
                    out.write(chunk)
                    written += len(parts)
                    size += len(chunk)
                if written >= lines:
                    break
            if written == before:
                raise SystemExit("speed: the BugSwarm passing logs are all empty")
        out.write(tail)
    return size + len(tail)


def run_child(argv: Sequence[str], workdir: Path) -> Run:
    """Run a whole process; its wall time, its peak RSS and its stdout.

    The peak RSS comes from GNU time when installed. A child spawned straight from this process
    would not do: Linux gives a (v)forked child the parent's memory high-water mark, so its
    `ru_maxrss` (from `os.wait4`) is at least this process's own peak; that is the fallback, and
    the table then says so.
    """
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    rss_file = workdir / "maxrss"
    command = [gnu_time, "-f", "%M", "-o", str(rss_file), *argv] if gnu_time else list(argv)
    with tempfile.TemporaryFile(dir=workdir) as out, tempfile.TemporaryFile(dir=workdir) as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    if child.returncode != 0:
        raise SystemExit(
            f"speed: {' '.join(argv[:4])} … exited with {child.returncode}:\n{stderr.strip()}"
        )
    if gnu_time:
        return Run(seconds, int(rss_file.read_text().split()[-1]), stdout, inherited=False)
    return Run(seconds, usage.ru_maxrss, stdout, inherited=True)


def whole_process(log: Path, runs: int, workdir: Path) -> dict[str, list[Run]]:
    commands = {
        "baseline (1 regex/line)": [sys.executable, "-c", BASELINE, str(log)],
        "recoverops analyze --json": [
            sys.executable,
            "-m",
            "recoverops.cli.main",
            "analyze",
            str(log),
            "--json",
        ],
    }
    for argv in commands.values():  # warm-up: page cache, .pyc files
        run_child(argv, workdir)
    results: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():  # alternate, so that load drifts hit both
            results[name].append(run_child(argv, workdir))
    return results


def small_logs(logs: Sequence[Path], runs: int) -> list[float]:
    """Per log, the median milliseconds of `analyze_text` in-process (catalogue loaded once)."""
    from recoverops.classify.catalogue import load_catalogue
    from recoverops.detector import analyze_text
    from recoverops.errors import InputError
    from recoverops.inputs import read_log
    from recoverops.settings import Settings

    settings = Settings()
    catalogue = load_catalogue(tuple(settings.extra_signature_dirs))
    texts = []
    for path in logs:
        try:
            texts.append(read_log(path, max_bytes=settings.max_log_bytes))
        except InputError:
            continue  # an empty or binary log is refused, not analyzed
    analyze_text(texts[0], catalogue=catalogue)  # warm-up: compiled patterns, caches
    per_log = []
    for text in texts:
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            analyze_text(text, catalogue=catalogue, window_lines=settings.analysis_window_lines)
            timings.append((time.perf_counter() - start) * 1000)
        per_log.append(statistics.median(timings))
    return per_log


def _mib(kib: float) -> str:
    return f"{kib / 1024:,.0f} MiB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--lines", type=int, default=500_000, help="lines in the large log")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command")
    parser.add_argument(
        "--small-runs", type=int, default=1, help="timed analyses of each small log (median)"
    )
    args = parser.parse_args(argv)
    logs = failing_logs(args.data)
    if not logs:
        print(
            f"speed: no BugSwarm logs under {args.data}/bugswarm/*/failing.log; "
            "pass --data with the shared data folder",
            file=sys.stderr,
        )
        return 2
    if min(args.lines, args.runs, args.small_runs) < 1:
        print("speed: --lines, --runs and --small-runs must be positive", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="recoverops-speed-") as tmp:
        workdir = Path(tmp)
        big = workdir / "large.log"
        size = build_log(passing_logs(args.data), args.lines, big, last=logs[-1])
        results = whole_process(big, args.runs, workdir)
        answer = json.loads(results["recoverops analyze --json"][-1].stdout.splitlines()[0])

    print(
        f"Large log: {args.lines:,} lines, {size / 2**20:,.1f} MiB, BugSwarm passing logs then "
        f"{logs[-1].parent.name}; failing step at lines {answer['failing_step']['start']:,}-"
        f"{answer['failing_step']['end']:,}; {args.runs} alternating runs after a warm-up; "
        f"load average "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(f"{'command':28} {'median s':>9} {'min s':>7} {'max s':>7} {'median max RSS':>15}")
    medians: dict[str, tuple[float, float]] = {}
    for name, runs in results.items():
        seconds = [r.seconds for r in runs]
        rss = statistics.median(r.max_rss_kib for r in runs)
        medians[name] = (statistics.median(seconds), rss)
        print(
            f"{name:28} {medians[name][0]:9.3f} {min(seconds):7.3f} {max(seconds):7.3f} "
            f"{_mib(rss):>15}"
        )
    (base_s, base_rss), (ours_s, ours_rss) = medians.values()
    ratio = ours_s / base_s
    verdict = "meets" if ratio <= GOAL_RATIO else "MISSES"
    print(
        f"time ratio {ratio:.2f}x (goal ≤ {GOAL_RATIO:.0f}x: {verdict}); RSS ratio "
        f"{ours_rss / base_rss:.1f}x"
    )
    if any(r.inherited for runs in results.values() for r in runs):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"  (no GNU time: each RSS is at least this process's own peak, {_mib(own)})")
    step = answer.get("failing_step") or {}
    print(
        f"  (analyze said {answer['category']} in {answer['log_format']} step lines "
        f"{step.get('start')}-{step.get('end')})"
    )

    per_log = small_logs(logs, args.small_runs)
    deciles = statistics.quantiles(per_log, n=10) if len(per_log) > 1 else per_log
    print(
        f"\nSmall logs: analyze_text in-process on {len(per_log)} BugSwarm logs, per log: "
        f"median {statistics.median(per_log):.1f} ms, p90 {deciles[-1]:.1f} ms, "
        f"max {max(per_log):.1f} ms"
    )

    print(
        "\nTemplate mining, ours vs drain3 (lines/s, same masks and parameters): measured by "
        "bench/bench_templates.py, not repeated here"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
