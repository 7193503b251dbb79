"""`recoverops up` end to end, as an operator runs it: a signed GitHub delivery of a failed job
becomes an analyzed incident, with the job's log fetched from (a local stand-in for) GitHub."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from recoverops.auth import Role
from tests.actors.conftest import GitHub, failure_body, github_server
from tests.auth_tokens import AUTH_SECRET, bearer
from tests.serve.harness import unused_port

SECRET = "e2e webhook secret"
VIEWER = bearer(Role.VIEWER, "e2e-viewer")
DEADLINE_SECONDS = 300


class Lines:
    """A process's stderr, collected by a thread so the pipe never fills."""

    def __init__(self, stream: IO[str]) -> None:
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                self.text += line

    def finish(self) -> None:
        """Wait for the end of the stream (the process has exited) and close it."""
        self._thread.join(timeout=30)


@pytest.fixture
def github() -> Iterator[GitHub]:
    with github_server() as server:
        yield server


def test_a_signed_failed_job_becomes_an_analyzed_incident_and_up_stops_cleanly(
    tmp_path: Path, github: GitHub
) -> None:
    with unused_port() as port:
        pass  # released just before `up` takes it
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env |= {
        "RAY_AUTH_MODE": "disabled",
        "RECOVEROPS_HOME": str(tmp_path / "home"),
        "RECOVEROPS_GITHUB_WEBHOOK_SECRET": SECRET,
        "RECOVEROPS_GITHUB_API_URL": github.url,
        "RECOVEROPS_GITHUB_TOKEN": "ghp_e2e_token",
        "RECOVEROPS_AUTH_SECRET": AUTH_SECRET,
    }
    command = [sys.executable, "-m", "recoverops.cli.main", "up", "--port", str(port)]
    system = subprocess.Popen(
        [*command, "--dashboard-port", "0"], env=env, stderr=subprocess.PIPE, text=True
    )
    assert system.stderr is not None
    log = Lines(system.stderr)
    api = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while "ready;" not in log.text:
            assert system.poll() is None and time.monotonic() < deadline, log.text
        assert f"API on {api}" in log.text
        anonymous = httpx.get(f"{api}/incidents", timeout=10)
        assert anonymous.status_code == 401, anonymous.text  # sign-in on under Ray Serve too

        body = json.dumps(failure_body()).encode()
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        accepted = httpx.post(
            f"{api}/webhooks/github",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "workflow_job",
                "X-GitHub-Delivery": "e2e-delivery-1",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
            timeout=30,
        )
        assert accepted.status_code == 202, accepted.text

        incident = None
        while incident is None:
            assert time.monotonic() < deadline, log.text
            items = httpx.get(f"{api}/incidents", headers=VIEWER, timeout=10).json()["items"]
            incident = next((i for i in items if i["status"] == "analyzed"), None)
        assert incident["category"] == "deploy.network"  # the real log fails on a DNS error
        detail = httpx.get(f"{api}/incidents/{incident['id']}", headers=VIEWER, timeout=10).json()
        assert any("dns error" in e["text"].lower() for e in detail["evidence"])
    finally:
        system.send_signal(signal.SIGTERM)
        system.wait(timeout=90)
        log.finish()
    assert system.returncode == 0, log.text
    assert "recoverops: stopped" in log.text
