"""AWS for tests: moto's server on 127.0.0.1 (a free port), one per session, and settings that
point RecoverOps at it (RECOVEROPS_AWS_ENDPOINT_URL). boto3 reads its credentials from the
environment; the fixture sets throwaway ones for the session. `moto_server()` is the same
server for scripts (bench/remediation.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.kubernetes.cluster import free_port

READY_TIMEOUT_S = 60.0
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoError(RuntimeError):
    pass


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on a free port of 127.0.0.1, with throwaway credentials in the
    environment while it runs; its URL."""
    port = free_port()
    executable = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    argv = [executable] if executable else [sys.executable, "-m", "moto.server"]
    with tempfile.TemporaryFile() as log:
        # moto runs no ECS agent: its documented knob reports each service's tasks as running.
        env = {**os.environ, "MOTO_ECS_SERVICE_RUNNING": "1"}
        server = subprocess.Popen(
            [*argv, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        saved = {name: os.environ.get(name) for name in CREDENTIALS}
        try:
            _wait(server, url, log)
            os.environ.update(CREDENTIALS)
            yield url
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


def _wait(server: subprocess.Popen[bytes], url: str, log: object) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if server.poll() is not None:
            raise MotoError(f"moto_server exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/moto-api/", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise MotoError(f"moto_server did not answer within {READY_TIMEOUT_S:g}s")
        time.sleep(0.1)  # the poll interval of a readiness wait


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    try:
        with moto_server() as url:
            yield url
    except MotoError as error:
        pytest.fail(str(error), pytrace=False)
