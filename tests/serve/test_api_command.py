"""`recoverops api` as a user runs it: a real process, embedded defaults, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.serve.harness import unused_port


def test_the_api_starts_with_embedded_defaults_answers_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env["RECOVEROPS_HOME"] = str(tmp_path / "home")
    with unused_port() as port:
        pass  # released just before the server takes it
    command = [sys.executable, "-m", "recoverops.cli.main", "api", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                continue
        assert health is not None and health.status_code == 200, server.stderr
        analyzed = httpx.post(
            f"http://127.0.0.1:{port}/analyze",
            content=b"$ pytest\nE   ModuleNotFoundError: No module named 'yaml'\n",
            headers={"Content-Type": "text/plain"},
        )
        assert analyzed.json()["category"] == "build.dependency"
        assert (tmp_path / "home" / "recoverops.db").is_file()  # SQLite under RECOVEROPS_HOME
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status reports it.
    assert server.returncode == -signal.SIGTERM
    assert "Traceback" not in stderr
