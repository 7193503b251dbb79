"""The classifier deployment through Ray Serve: throughput and latency, batched and unbatched,
and how long a promotion takes to be served.

    .venv/bin/python bench/classifier.py [--data ../shared/data/bugswarm] [--runs 3]
                                         [--requests 200] [--inflight 1 8 32] [--json]

A model is fitted on the labelled logs of `--data` (the shared BugSwarm corpus; the fixture
corpus of tests/ when it is absent), logged and registered twice (versions 1 and 2) in a
temporary MLflow store, and version 1 is made the champion. Then, through a DeploymentHandle
(no HTTP), with 1, 8 and 32 requests in flight:

    batched     Classifier.predict (serve.batch: up to 16 rows, 5 ms wait)
    unbatched   Classifier.predict_one (one row per call)

throughput (requests/s) and p50/p99 latency, the median of --runs runs. Promotion-to-serving
latency, from the call to the first answer of the new version while a caller keeps sending:

    reconfigure   `reconfigure({"model_version": v})`: load, then swap
    alias         moving `@champion` with the replica polling every --poll seconds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import ray
from ray import serve
from ray.serve.handle import DeploymentHandle

from recoverops.models.classifier import FailureModel
from recoverops.models.features import FEATURE_COLUMNS
from recoverops.serve.classifier import Served, classifier_application
from recoverops.settings import Settings
from recoverops.training.datasets import (
    BUILD_LABELS,
    corpus_examples,
    featurize,
    labelled,
    split_sides,
)
from recoverops.training.mlflow_model import CHAMPION, log_failure_model, use_tracking
from recoverops.training.registry import experiment_id

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "bugswarm"
APP = "classifier-bench"
Handle = DeploymentHandle[Any]


def corpus(data: Path, scratch: Path) -> tuple[pd.DataFrame, str]:
    if data.is_dir():
        return labelled(featurize(corpus_examples(data), workers=2), BUILD_LABELS), str(data)
    sys.path.insert(0, str(ROOT))
    from tests.ml_corpus import write_case_corpus

    folder = write_case_corpus(scratch / "corpus")
    return labelled(featurize(corpus_examples(folder))), "tests fixture corpus"


def registered(settings: Settings, frame: pd.DataFrame) -> tuple[str, str]:
    """Fit on the training projects, log once, register two versions; v1 is the champion."""
    train = split_sides(frame)["dev"]
    train = train if train["label"].nunique() >= 2 else frame
    model = FailureModel().fit(train, train["label"])
    use_tracking(settings)
    # Its artifacts go under the settings' home, not into ./mlruns.
    with mlflow.start_run(experiment_id=experiment_id(settings, "bench-classifier")):
        uri = log_failure_model(model, train)
    first, second = (str(mlflow.register_model(uri, settings.model_name).version) for _ in "12")
    set_alias(settings, first)
    return first, second


def set_alias(settings: Settings, version: str) -> None:
    mlflow.MlflowClient().set_registered_model_alias(settings.model_name, CHAMPION, version)


async def load(
    handle: Handle, method: str, rows: list[dict[str, Any]], inflight: int, total: int
) -> tuple[float, float, float, int]:
    """`total` requests with `inflight` callers; (requests/s, p50 ms, p99 ms, failures)."""
    latencies: list[float] = []
    failures = 0
    counter = iter(range(total))

    async def caller() -> None:
        nonlocal failures
        for i in counter:
            started = time.perf_counter()
            served: Served = await getattr(handle, method).remote(rows[i % len(rows)])
            latencies.append(time.perf_counter() - started)
            failures += served.prediction is None

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(inflight)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return total / elapsed, 1000 * statistics.median(ordered), 1000 * p99, failures


async def until_served(handle: Handle, row: dict[str, Any], version: str, started: float) -> float:
    """Seconds from `started` to the first answer from `version` (a caller sending steadily)."""
    while True:
        served: Served = await handle.predict.remote(row)
        if served.model is not None and served.model.endswith(f"/{version}"):
            return time.perf_counter() - started


async def promotion(
    handle: Handle, settings: Settings, row: dict[str, Any], versions: tuple[str, str], runs: int
) -> tuple[float, float]:
    by_reconfigure: list[float] = []
    by_alias: list[float] = []
    poll = (await handle.status.remote())["config"]["poll_s"]
    for run in range(runs):
        target = versions[(run + 1) % 2]
        started = time.perf_counter()
        waiting = asyncio.ensure_future(until_served(handle, row, target, started))
        await handle.reconfigure.remote({"model_version": target, "poll_s": poll})
        by_reconfigure.append(await waiting)
    # Follow the alias again, serving its version, then move it.
    await handle.reconfigure.remote({"model_version": None, "poll_s": poll})
    serving = (await handle.status.remote())["version"]
    for _ in range(runs):
        target = versions[1] if serving == versions[0] else versions[0]
        started = time.perf_counter()
        await asyncio.to_thread(set_alias, settings, target)
        by_alias.append(await until_served(handle, row, target, started))
        serving = target
    return statistics.median(by_reconfigure), statistics.median(by_alias)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--inflight", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--poll", type=float, default=1.0, help="alias poll interval, seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(home=Path(scratch) / "home")
        started = time.perf_counter()
        frame, source = corpus(args.data, Path(scratch))
        versions = registered(settings, frame)
        prepared = time.perf_counter() - started
        rows = [
            {str(k): v for k, v in r.items()}
            for r in frame[list(FEATURE_COLUMNS)].to_dict("records")
        ]
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            serve.start(proxy_location="Disabled")
            config = {"poll_s": args.poll, "max_batch_size": 16, "batch_wait_timeout_s": 0.005}
            handle: Handle = serve.run(
                classifier_application(settings, config=config), name=APP, route_prefix=None
            )
            asyncio.run(load(handle, "predict", rows, 8, 64))  # warm up both paths
            asyncio.run(load(handle, "predict_one", rows, 8, 64))
            results: dict[str, Any] = {
                "source": source,
                "examples": len(frame),
                "prepare_s": round(prepared, 1),
                "load": {},
            }
            for method, label in (("predict", "batched"), ("predict_one", "unbatched")):
                for inflight in args.inflight:
                    runs = [
                        asyncio.run(load(handle, method, rows, inflight, args.requests))
                        for _ in range(args.runs)
                    ]
                    results["load"][f"{label}@{inflight}"] = figures = {
                        "rps": round(statistics.median(r[0] for r in runs), 1),
                        "p50_ms": round(statistics.median(r[1] for r in runs), 1),
                        "p99_ms": round(statistics.median(r[2] for r in runs), 1),
                        "failures": sum(r[3] for r in runs),
                    }
                    sys.stderr.write(f"{label}@{inflight}: {figures}\n")
            reconfigure_s, alias_s = asyncio.run(
                promotion(handle, settings, rows[0], versions, args.runs)
            )
            results["promotion_s"] = {
                "reconfigure": round(reconfigure_s, 3),
                f"alias (poll {args.poll:g} s)": round(alias_s, 3),
            }
        finally:
            serve.shutdown()  # type: ignore[no-untyped-call]
            ray.shutdown()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"model fitted on {results['examples']} logs of {source} ({prepared:.0f} s to prepare)")
    print(f"{'':18}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}")
    for name, row in results["load"].items():
        print(f"{name:18}{row['rps']:>8}{row['p50_ms']:>9}{row['p99_ms']:>9}{row['failures']:>8}")
    for name, seconds in results["promotion_s"].items():
        print(f"promotion to serving, {name}: {seconds:.3f} s (median of {args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
