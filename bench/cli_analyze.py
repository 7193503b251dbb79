"""`recoverops analyze` on a small log, as a user runs it: wall time, CPU time and peak memory of
the whole process, in each state of RECOVEROPS_HOME.

    .venv/bin/python bench/cli_analyze.py [--runs 5] [--log tests/fixtures/cases/.../log.txt]

States: a clean home (nothing trained); a home whose MLflow store exists but has no champion (as
after `make run`); a home with a champion and its local copy (after `recoverops train`: the
portable copy, scored with numpy); and the one-off first analysis with a champion but no local
copy yet (it loads the champion through MLflow and keeps a copy). The baseline, measured in the
same run, is `python -c pass` with the same interpreter. Each figure is the median of --runs
processes, run one after the other; the time, CPU time (user + system) and peak RSS are the
child's own, from wait4's resource usage. On a machine shared with other work the wall time
grows with the load and the CPU time does not: both are printed, with the load average. The
champion is fitted on the test fixture corpus (tests/ml_corpus.py), registered in a temporary
MLflow store. The goal (issue #14): ≤ 1 s and ≤ 150 MB in every state.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# 25 lines: a docker pull that failed on an unknown manifest.
DEFAULT_LOG = (
    ROOT / "tests" / "fixtures" / "cases" / "github-docker-pull-manifest-unknown" / "log.txt"
)

Sample = tuple[float, float, float]  # seconds, CPU seconds, peak MiB


def measure(command: list[str], env: dict[str, str]) -> Sample:
    """(seconds, CPU seconds, peak RSS in MiB) of one process running `command`."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def median_of(samples: list[Sample]) -> Sample:
    seconds, cpu, mib = zip(*samples, strict=True)
    return statistics.median(seconds), statistics.median(cpu), statistics.median(mib)


def medians(command: list[str], env: dict[str, str], runs: int) -> Sample:
    return median_of([measure(command, env) for _ in range(runs)])


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    return env | {"RECOVEROPS_HOME": str(home)}


def make_champion(home: Path) -> str:
    """A champion registered in `home`'s MLflow store, as `recoverops train` leaves one.

    Run in a process of its own (`--prepare`): a child forked from a process that imported
    MLflow and scikit-learn would start with their memory counted in its peak."""
    sys.path.insert(0, str(ROOT))
    from recoverops.settings import Settings
    from recoverops.training.local_champion import save_copy
    from recoverops.training.mlflow_model import load_alias
    from tests.champion import corpus_frame, log_model, register

    settings = Settings(home=home)
    version = register(settings, log_model(settings, corpus_frame(home / "corpus")))
    loaded = load_alias(settings)
    assert loaded is not None
    save_copy(settings, model=loaded.model, version=version)  # what promotion does
    return version


def make_store_without_champion(home: Path) -> str:
    """An MLflow store with no champion, as `recoverops up` leaves one before any training."""
    sys.path.insert(0, str(ROOT))
    from recoverops.settings import Settings
    from recoverops.training.mlflow_model import alias_version

    assert alias_version(Settings(home=home)) is None
    return "none"


def prepare(kind: str, home: Path) -> str:
    """Make `home` of `kind` in a child process; the champion's version, or "none"."""
    done = subprocess.run(
        [sys.executable, __file__, "--prepare", kind, str(home)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--prepare", nargs=2, metavar=("KIND", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        kind, home = args.prepare
        make = make_champion if kind == "champion" else make_store_without_champion
        print(make(Path(home)))
        return 0
    analyze = [sys.executable, "-m", "recoverops.cli.main", "analyze", "--json", str(args.log)]
    lines = len(args.log.read_text("utf-8", errors="replace").splitlines())
    print(f"recoverops analyze on {args.log.name} ({lines} lines), median of {args.runs} runs")

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        clean, empty_store, trained = root / "clean", root / "store", root / "trained"
        prepare("store", empty_store)
        version = prepare("champion", trained)
        first = root / "first"
        load = os.getloadavg()

        rows: list[tuple[str, Sample]] = [
            ("baseline: python -c pass", medians([sys.executable, "-c", "pass"], {}, args.runs))
        ]
        rows.append(("clean home", medians(analyze, environment(clean), args.runs)))
        rows.append(
            ("MLflow store, no champion", medians(analyze, environment(empty_store), args.runs))
        )
        rows.append(
            (f"champion v{version}, local copy", medians(analyze, environment(trained), args.runs))
        )
        samples = []
        for _ in range(args.runs):
            shutil.rmtree(first, ignore_errors=True)
            shutil.copytree(trained, first)
            shutil.rmtree(first / "champion")
            samples.append(measure(analyze, environment(first)))
        rows.append(("champion, no copy yet (first run: MLflow)", median_of(samples)))

    base = rows[0][1][0]
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in load)}")
    print(f"{'state':<44} {'seconds':>8} {'x python':>9} {'CPU s':>6} {'peak MiB':>9}")
    for name, (seconds, cpu, mib) in rows:
        print(f"{name:<44} {seconds:8.2f} {seconds / base:9.1f} {cpu:6.2f} {mib:9.0f}")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
