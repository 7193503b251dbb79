"""Detection latency: from a webhook's 202 to its analyzed incident, with 10, 100 and 1,000
events in flight, through `recoverops up` (Ray Serve, the detector pool, SQLite + outbox), and
the memory of each Ray process while it works. After each batch it also prints the stage
latencies the system reports itself on GET /metrics (`recoverops_stage_latency_seconds`: ingest,
detect, analyze; over the last hour, so each row includes the batches before it).

A local stand-in for GitHub answers the job-logs endpoint with the real 302 redirect and serves
a real failing log, so the detectors fetch, analyze, fingerprint and store as they would.

    .venv/bin/python bench/detect.py [--batches 10,100,1000] [--detectors 2]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.server
import json
import os
import re
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
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from recoverops.auth import Role
from recoverops.auth.local import create_token

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = ROOT / "tests/fixtures/webhooks/github/workflow_job"
LOG = (ROOT / "tests/fixtures/cases/github-uv-python-downloads-dns-error/log.txt").read_bytes()
SECRET = "bench secret"
# The system signs in like a deployment: the bench reads incidents and metrics as a viewer.
AUTH_SECRET = secrets.token_hex(32)
VIEWER = {
    "Authorization": "Bearer "
    + create_token(AUTH_SECRET, role=Role.VIEWER, subject="bench", ttl=timedelta(hours=6))
}
_JOB_LOGS = re.compile(r"^/repos/[^/]+/[^/]+/actions/jobs/\d+/logs$")


class _GitHub(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the handler API
        if _JOB_LOGS.match(self.path):
            self.send_response(302)
            self.send_header("Location", "/blob/job.log")
            self.end_headers()
        elif self.path == "/blob/job.log":
            self.send_response(200)
            self.send_header("Content-Length", str(len(LOG)))
            self.end_headers()
            self.wfile.write(LOG)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *_: object) -> None:
        return


@contextmanager
def github() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def system(
    home: Path, github_url: str, port: int, detectors: int
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env |= {
        "RAY_AUTH_MODE": "disabled",
        "RECOVEROPS_HOME": str(home),
        "RECOVEROPS_GITHUB_WEBHOOK_SECRET": SECRET,
        "RECOVEROPS_GITHUB_API_URL": github_url,
        "RECOVEROPS_GITHUB_TOKEN": "ghp_bench",
        "RECOVEROPS_AUTH_SECRET": AUTH_SECRET,
    }
    argv = [sys.executable, "-m", "recoverops.cli.main", "up", "--port", str(port)]
    argv += ["--detectors", str(detectors)]
    errors = (home.parent / "up.stderr").open("w+")
    up = subprocess.Popen([*argv, "--dashboard-port", "0"], env=env, stderr=errors)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while True:
            if up.poll() is not None or time.monotonic() > deadline:
                errors.seek(0)
                tail = errors.read()[-2000:]
                raise SystemExit(f"detect: recoverops up did not start:\n{tail}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                continue
        yield url, up
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=120)


def post_batch(url: str, batch: str, count: int) -> dict[str, float]:
    """Post `count` failed jobs (each its own job, so its own incident) from 16 threads; the
    wall-clock time of each 202, by job name."""
    body = json.loads((PAYLOAD / "completed.failure.with-organization.payload.json").read_bytes())
    work = []
    for n in range(count):
        body["workflow_job"]["id"] = hash((batch, n)) % 10**9
        body["workflow_job"]["name"] = f"{batch}-{n}"
        raw = json.dumps(body).encode()
        digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        work.append((f"{batch}-{n}", raw, digest))
    accepted: dict[str, float] = {}
    lock = threading.Lock()
    items = iter(work)

    def client() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while True:
                with lock:
                    item = next(items, None)
                if item is None:
                    return
                name, raw, digest = item
                response = http.post(
                    "/webhooks/github",
                    content=raw,
                    headers={
                        "Content-Type": "application/json",
                        "X-GitHub-Event": "workflow_job",
                        "X-GitHub-Delivery": name,
                        "X-Hub-Signature-256": f"sha256={digest}",
                    },
                )
                if response.status_code == 202:
                    with lock:
                        accepted[name] = time.time()

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return accepted


POLL_S = 0.25
WARM_UP = 5


def analyzed_times(url: str, batch: str, expected: int, timeout: float) -> dict[str, float]:
    """When each incident of the batch reached `analyzed` (its timeline), by job name."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=60, headers=VIEWER) as http:
        while True:
            found: dict[str, int] = {}
            cursor = None
            while True:
                params: dict[str, str | int] = {"status": "analyzed", "limit": 500}
                if cursor:
                    params["cursor"] = cursor
                page = http.get("/incidents", params=params).json()
                for item in page["items"]:
                    job = item["target"].rsplit("/", 1)[-1]
                    if job.startswith(f"{batch}-"):
                        found[job] = item["id"]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            if len(found) >= expected or time.monotonic() > deadline:
                break
            # Between looks: a tight polling loop would take CPU from the system it measures.
            time.sleep(POLL_S)
        times = {}
        for job, incident in found.items():
            timeline = http.get(f"/incidents/{incident}").json()["timeline"]
            at = next(t["at"] for t in timeline if t["stage"] == "analyzed")
            times[job] = datetime.fromisoformat(at).timestamp()
        return times


def stage_latencies(url: str) -> dict[str, dict[str, float]]:
    """The system's own stage latency quantiles, from GET /metrics: {stage: {quantile: s}}."""
    text = httpx.get(f"{url}/metrics", headers=VIEWER, timeout=30).text
    found: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "recoverops_stage_latency_seconds":
            continue
        for sample in family.samples:
            found.setdefault(sample.labels["stage"], {})[sample.labels["quantile"]] = sample.value
    return found


def ray_memory() -> list[tuple[str, int]]:
    """(process title, RSS in MiB) of the Ray worker processes, from /proc."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "ray::" not in cmdline:
            continue
        rss = re.search(r"VmRSS:\s+(\d+) kB", text)
        if rss:
            found.append((cmdline.split()[0], int(rss.group(1)) // 1024))
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", default="10,100,1000")
    parser.add_argument("--detectors", type=int, default=2, help="detector actors on the queue")
    args = parser.parse_args()
    sizes = [int(s) for s in args.batches.split(",")]
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rows = []
    stages: list[tuple[int, dict[str, dict[str, float]]]] = []
    memory: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory(prefix="recoverops-detect-") as tmp, github() as gh:
        with system(Path(tmp) / "home", gh, port, args.detectors) as (url, _):
            # Not measured: the first events pay for lazy imports and first connections.
            warm = post_batch(url, "warm", WARM_UP)
            analyzed_times(url, "warm", len(warm), timeout=120)
            for size in sizes:
                batch = f"b{size}"
                accepted = post_batch(url, batch, size)
                done = analyzed_times(url, batch, len(accepted), timeout=60 + size)
                if size == max(sizes):
                    memory = ray_memory()
                stages.append((size, stage_latencies(url)))
                latencies = sorted(done[j] - accepted[j] for j in done if j in accepted)
                if not latencies:
                    rows.append((size, len(accepted), 0, float("nan"), float("nan")))
                    continue
                p50 = statistics.median(latencies)
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                rows.append((size, len(accepted), len(latencies), p50, p99))
    print(
        f"detection latency, 202 -> analyzed, {args.detectors} detectors;"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'in flight':>9} {'accepted':>9} {'analyzed':>9} {'p50 s':>7} {'p99 s':>7}")
    for size, accepted_n, analyzed_n, p50, p99 in rows:
        print(f"{size:9} {accepted_n:9} {analyzed_n:9} {p50:7.2f} {p99:7.2f}")
    print("stage latencies the system reports (GET /metrics, last hour), p50 / p99 s:")
    for size, found in stages:
        cells = []
        for stage in ("ingest", "detect", "analyze"):
            q = found.get(stage, {})
            p50, p99 = q.get("0.5", float("nan")), q.get("0.99", float("nan"))
            cells.append(f"{stage} {p50:.3f} / {p99:.3f}")
        print(f"  after {size:5}: " + "; ".join(cells))
    print("Ray worker processes at the largest batch (RSS MiB):")
    for title, mib in memory:
        print(f"  {title:40} {mib:6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
