"""A real `mlflow server` on loopback for the training tests: its own SQLite backend and
artifact folder, proxied artifacts (the client never writes to that folder itself), started in
its own process group and stopped with everything it spawned.

Starting one takes 10-20 s of imports, so `tests/training/conftest.py` starts it as soon as the
tests are collected, and the tests before the ones that need it run while it boots.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

import httpx
import pytest

from tests.serve.harness import unused_port

MLFLOW = Path(sys.executable).with_name("mlflow")
START_DEADLINE_S = 180.0


@dataclass(frozen=True, slots=True)
class MlflowServer:
    url: str
    artifacts: Path


class BootingServer:
    """`mlflow server` started, perhaps not answering yet: `ready()` waits until it does."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="recoverops-mlflow-"))
        with unused_port() as port:
            pass  # released just before the server takes it
        self.server = MlflowServer(f"http://127.0.0.1:{port}", self.folder / "artifacts")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECOVEROPS_"))}
        # The job runner (huey workers) serves MLflow's GenAI features; it doubles the start time.
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        command = [
            str(MLFLOW),
            "server",
            "--host=127.0.0.1",
            f"--port={port}",
            "--workers=1",
            f"--backend-store-uri=sqlite:///{self.folder / 'mlflow.db'}",
            f"--artifacts-destination={self.server.artifacts}",
        ]
        self.log = self.folder / "server.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._healthy = False

    def ready(self) -> MlflowServer:
        deadline = monotonic() + START_DEADLINE_S
        while not self._healthy and monotonic() < deadline:
            try:
                self._healthy = httpx.get(f"{self.server.url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                pass
            if self._healthy:
                break
            try:
                # Waits for the server to die, at most a moment: the pause between two probes.
                code = self.process.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"mlflow server exited with {code}:\n{self._output()}")
        if not self._healthy:
            waited = f"{START_DEADLINE_S:.0f}s"
            pytest.fail(f"mlflow server not healthy after {waited}:\n{self._output()}")
        return self.server

    def stop(self) -> None:
        """SIGTERM to the server's own process group (its uvicorn worker too), SIGKILL if it
        does not go within 30 s; then its folder is removed."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _output(self) -> str:
        return self.log.read_text(errors="replace")
