"""Memory per source actor: the RSS and USS of each source actor `recoverops up` runs, against
an idle Ray worker measured the same way.

Each run starts local Ray, then starts, through `recoverops.actors.handles.spawn` with the
supervisor's options, the CI sweep actor (SourceActor, github), the CloudWatch Logs follower
(CloudWatchActor, against a moto_server this script starts with one log group), the Kubernetes
watcher (KubeWatchActor) only when `--kubeconfig` names a cluster, and a trivial actor as the
baseline. It waits until each answers ping and stats, reads each actor process's RSS and USS
(psutil, the pid from the actor itself), and stops Ray. Settings: a temporary home, SQLite
(migrated before the actors start) and the outbox queue. Median of `--runs` runs.

    .venv/bin/python bench/sources.py [--runs 3] [--kubeconfig PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recoverops.settings import Settings  # noqa: E402
from recoverops.store import Store  # noqa: E402

READY_TIMEOUT_S = 120.0
MIB = 1024 * 1024
LOG_GROUP = "/aws/lambda/bench-sources"


class IdleActor:
    """The baseline: a Ray worker holding an actor that imports nothing of RecoverOps."""

    def ping(self) -> str:
        return "idle"

    def stats(self) -> dict[str, Any]:
        return {"source": "idle", "running": True}


def _pid(_actor: Any) -> int:
    return os.getpid()


def wait_ready(actor: Any, name: str) -> dict[str, Any]:
    """Ping, then stats, each until it answers (an actor's __init__ may take a while under
    load); the stats it answered with."""
    import ray
    from ray.exceptions import GetTimeoutError

    deadline = time.monotonic() + READY_TIMEOUT_S
    for method in ("ping", "stats"):
        while True:
            try:
                answer: Any = ray.get(getattr(actor, method).remote(), timeout=10)
                break
            except GetTimeoutError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"sources: {name} did not answer {method}") from None
    return dict(answer)


def measure(actor: Any) -> tuple[float, float]:
    """(RSS, USS) in MiB of the actor's worker process."""
    import ray

    pid = ray.get(actor.__ray_call__.remote(_pid), timeout=30)
    memory = psutil.Process(pid).memory_full_info()
    return memory.rss / MIB, memory.uss / MIB


def one_run(moto_url: str, kubeconfig: Path | None) -> dict[str, tuple[float, float]]:
    import ray

    from recoverops.actors.cloudwatch_watch import CloudWatchActor
    from recoverops.actors.handles import spawn
    from recoverops.actors.kube_watch import KubeWatchActor
    from recoverops.actors.source import SourceActor
    from recoverops.actors.supervisor import PoolConfig

    pool = PoolConfig()
    # The supervisor's `_restarting()` options and queue, as in `_new_source`.
    options = {"num_cpus": pool.num_cpus, "max_restarts": -1}
    queue = pool.detector.queue
    with tempfile.TemporaryDirectory(prefix="recoverops-sources-") as tmp:
        settings = Settings(
            home=Path(tmp) / "home",
            database_url=None,
            aws_endpoint_url=moto_url,
            aws_log_groups=[LOG_GROUP],
            kubeconfig=kubeconfig,
        )
        Store.open(settings).close()  # migrated once here: the actors open it unmigrated
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            actors: dict[str, Any] = {
                "idle worker (baseline)": spawn(IdleActor, options=options),
                "github (SourceActor)": spawn(
                    SourceActor,
                    settings,
                    options=options,
                    source="github",
                    config=replace(pool.source, queue=queue),
                ),
                "cloudwatch (CloudWatchActor)": spawn(
                    CloudWatchActor, settings, options=options, queue=queue
                ),
            }
            if kubeconfig is not None:
                actors["kubernetes (KubeWatchActor)"] = spawn(
                    KubeWatchActor, settings, options=options, queue=queue
                )
            found = {}
            for name, actor in actors.items():
                stats = wait_ready(actor, name)
                if stats.get("running") is False:
                    raise SystemExit(f"sources: {name} is not running: {stats.get('error')}")
                found[name] = measure(actor)
            for actor in actors.values():
                ray.kill(actor)
            return found
        finally:
            ray.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kubeconfig", type=Path, help="a cluster to watch; unset: no Kubernetes")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.kubeconfig is not None and not args.kubeconfig.is_file():
        parser.error(f"--kubeconfig {args.kubeconfig}: no such file")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    import boto3

    from tests.remediation.moto_fixture import moto_server

    runs: list[dict[str, tuple[float, float]]] = []
    loads: list[float] = []
    with moto_server() as moto_url:  # sets throwaway AWS credentials, which Ray's workers inherit
        logs = boto3.client("logs", endpoint_url=moto_url, region_name="us-east-1")
        logs.create_log_group(logGroupName=LOG_GROUP)
        for _ in range(args.runs):
            loads.append(os.getloadavg()[0])
            runs.append(one_run(moto_url, args.kubeconfig))
    loads.append(os.getloadavg()[0])
    print(
        f"memory per source actor, median of {args.runs} runs (Ray restarted each run);"
        f" load average {', '.join(f'{load:.2f}' for load in loads)}"
    )
    if args.kubeconfig is None:
        print("kubernetes (KubeWatchActor): not measured, no --kubeconfig given")
    print(f"{'actor':32} {'RSS MiB':>8} {'USS MiB':>8} {'RSS-idle':>9} {'USS-idle':>9}")
    medians = {
        name: (
            statistics.median(run[name][0] for run in runs),
            statistics.median(run[name][1] for run in runs),
        )
        for name in runs[0]
    }
    idle_rss, idle_uss = medians["idle worker (baseline)"]
    for name, (rss, uss) in medians.items():
        print(f"{name:32} {rss:8.1f} {uss:8.1f} {rss - idle_rss:+9.1f} {uss - idle_uss:+9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
