"""`recoverops api` as a user runs it: a real process, embedded defaults, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from recoverops.auth import Role
from tests.auth_tokens import AUTH_SECRET, bearer
from tests.serve.harness import unused_port


def test_the_api_starts_with_embedded_defaults_answers_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env["RECOVEROPS_HOME"] = str(tmp_path / "home")
    env["RECOVEROPS_AUTH_SECRET"] = AUTH_SECRET
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
        log = b"$ pytest\nE   ModuleNotFoundError: No module named 'yaml'\n"
        text = {"Content-Type": "text/plain"}
        anonymous = httpx.post(f"http://127.0.0.1:{port}/analyze", content=log, headers=text)
        assert anonymous.status_code == 401
        analyzed = httpx.post(
            f"http://127.0.0.1:{port}/analyze",
            content=log,
            headers=text | bearer(Role.VIEWER),
        )
        assert analyzed.json()["category"] == "build.dependency"
        assert (tmp_path / "home" / "recoverops.db").is_file()  # SQLite under RECOVEROPS_HOME
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status reports it.
    assert server.returncode == -signal.SIGTERM
    assert "Traceback" not in stderr


def test_outside_development_the_api_refuses_to_start_with_no_way_to_check_a_token(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env["RECOVEROPS_HOME"] = str(tmp_path / "home")
    command = [sys.executable, "-m", "recoverops.cli.main", "api", "--port", "1"]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert refused.returncode == 3
    [line] = refused.stderr.splitlines()
    assert line.startswith("recoverops: invalid setting: no way to check a token")
    for name in ("RECOVEROPS_OIDC_ISSUER", "RECOVEROPS_AUTH_SECRET", "RECOVEROPS_ENV"):
        assert name in line
    assert not (tmp_path / "home").exists()  # refused before the store was opened


def test_a_placeholder_signing_secret_is_refused_outside_development(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env |= {"RECOVEROPS_HOME": str(tmp_path / "home"), "RECOVEROPS_AUTH_SECRET": "changeme"}
    command = [sys.executable, "-m", "recoverops.cli.main", "api", "--port", "1"]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert refused.returncode == 3
    assert refused.stderr.splitlines() == [
        "recoverops: invalid setting: RECOVEROPS_AUTH_SECRET: is a placeholder, not a secret"
    ]
