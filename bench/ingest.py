"""Webhook ingestion: events/s and latency to 202, through plain uvicorn and through Ray Serve.

Both run the same app (`create_app`) over the embedded defaults (SQLite and the outbox queue in
a temporary RECOVEROPS_HOME); a pool of client threads posts signed GitHub deliveries of a
failed job (each with its own delivery id, so each is stored and queued) and times each until
its 202. Nothing consumes the queue, so what is measured is ingestion alone.

    .venv/bin/python bench/ingest.py [--events 1000] [--clients 16] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = ROOT / "tests/fixtures/webhooks/github/workflow_job"
SECRET = "bench secret"
SERVE_DRIVER = """
import signal, sys, threading
import ray
from ray import serve
from recoverops.serve.ray_app import serve_application
from recoverops.settings import Settings
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
serve.start(http_options={"host": "127.0.0.1", "port": int(sys.argv[1])})
serve.run(
    serve_application(Settings(), replicas=int(sys.argv[2])), name="recoverops", route_prefix="/"
)
print("ready", flush=True)
stop.wait()
serve.shutdown()
ray.shutdown()
"""


@contextmanager
def server(kind: str, port: int, home: Path, replicas: int = 1) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env |= {"RECOVEROPS_HOME": str(home), "RECOVEROPS_GITHUB_WEBHOOK_SECRET": SECRET}
    # The webhooks take no token, but `recoverops api` starts only with sign-in configured.
    env["RECOVEROPS_AUTH_SECRET"] = secrets.token_hex(32)
    env["RAY_AUTH_MODE"] = "disabled"
    if kind == "uvicorn":
        argv = [sys.executable, "-m", "recoverops.cli.main", "api", "--port", str(port)]
    else:
        argv = [sys.executable, "-c", SERVE_DRIVER, str(port), str(replicas)]
    errors = (home.parent / f"{home.name}.stderr").open("w+")
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                errors.seek(0)
                tail = errors.read()[-2000:]
                raise SystemExit(f"ingest: the {kind} server did not start:\n{tail}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                continue
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
        errors.close()


def deliveries(count: int, run: str) -> list[tuple[bytes, dict[str, str]]]:
    body = json.loads((PAYLOAD / "completed.failure.with-organization.payload.json").read_bytes())
    prepared = []
    for n in range(count):
        body["workflow_job"]["id"] = 10_000_000 + n
        raw = json.dumps(body).encode()
        digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "workflow_job",
            "X-GitHub-Delivery": f"{run}-{n}",
            "X-Hub-Signature-256": f"sha256={digest}",
        }
        prepared.append((raw, headers))
    return prepared


def load(url: str, work: list[tuple[bytes, dict[str, str]]], clients: int) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    items = iter(work)

    def client() -> None:
        nonlocal failures
        with httpx.Client(base_url=url, timeout=60) as http:
            while True:
                with lock:
                    item = next(items, None)
                if item is None:
                    return
                started = time.perf_counter()
                response = http.post("/webhooks/github", content=item[0], headers=item[1])
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    failures += response.status_code != 202

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "events_per_s": len(work) / wall,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "failed": failures,
    }


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    # Plain uvicorn is one process; Serve is measured with one ingress replica (one process, as
    # uvicorn) and with two (what Serve's scaling gives on two cores).
    servers = {"uvicorn": ("uvicorn", 1), "serve": ("serve", 1), "serve x2": ("serve", 2)}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    with tempfile.TemporaryDirectory(prefix="recoverops-ingest-") as tmp:
        for kind, (server_kind, replicas) in servers.items():
            home = Path(tmp) / kind.replace(" ", "-")
            with server(server_kind, free_port(), home, replicas) as url:
                load(url, deliveries(50, f"{kind}-warm"), args.clients)
                for run in range(args.runs):
                    work = deliveries(args.events, f"{kind}-{run}")
                    results[kind].append(load(url, work, args.clients))
    print(
        f"{args.events} signed deliveries x {args.runs} runs, {args.clients} client threads, "
        f"SQLite + outbox; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(f"{'server':10} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-202':>8}")
    medians = {}
    for kind, runs in results.items():
        rate = statistics.median(r["events_per_s"] for r in runs)
        medians[kind] = rate
        p50 = statistics.median(r["p50_ms"] for r in runs)
        p99 = statistics.median(r["p99_ms"] for r in runs)
        failed = sum(r["failed"] for r in runs)
        print(f"{kind:10} {rate:9.0f} {p50:8.1f} {p99:8.1f} {failed:8.0f}")
    for kind in ("serve", "serve x2"):
        ratio = medians["uvicorn"] / medians[kind]
        print(f"uvicorn / {kind} throughput: {ratio:.2f}x (goal: Serve within 2x of uvicorn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
