"""The README's quick start, end to end: `recoverops up`, then `make example`, then three analyzed
incidents, one per CI system, each analyzed from its example job's log.

The logs reach the workers the way the README says: `make example` places them under the
system's home and the detector's log fetcher reads them through the connector path a GitHub,
GitLab or Jenkins log takes. The webhook secrets are set, so the deliveries are signed as a real
CI system signs them.
"""

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
from tests.e2e.test_up import Lines
from tests.serve.harness import unused_port

ROOT = Path(__file__).resolve().parents[2]
# Starting Ray and Serve takes ~20 s on an idle 2-core machine, minutes on a loaded one.
VIEWER = bearer(Role.VIEWER, "e2e-viewer")
DEADLINE_SECONDS = 300
POLL_SECONDS = 0.2  # between looks at the condition waited for, so the wait leaves the CPU
# Each example's job, as its delivery names it, and what its real log says failed.
EXPECTED = {
    "github": ("github:Codertocat/Hello-World:", "infra.container", "manifest unknown"),
    "gitlab": ("gitlab:gitlab-org/gitlab-test:", "deploy.network", "Could not resolve host"),
    "jenkins": ("jenkins:Synapse", "build.test", "failed tests"),
}


def test_make_run_then_make_example_shows_three_analyzed_incidents(tmp_path: Path) -> None:
    with unused_port() as port:
        pass  # released just before `up` takes it
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env |= {
        "RAY_AUTH_MODE": "disabled",
        "RECOVEROPS_HOME": str(tmp_path / "home"),
        "RECOVEROPS_GITHUB_WEBHOOK_SECRET": "quick start secret",
        "RECOVEROPS_GITLAB_WEBHOOK_TOKEN": "quick start token",
        "RECOVEROPS_JENKINS_WEBHOOK_TOKEN": "quick start jenkins token",
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
            time.sleep(POLL_SECONDS)

        # The README's second command, as written in the Makefile (its venv already made).
        example = subprocess.run(
            [
                "make",
                "-s",
                "-o",
                ".venv/.installed",
                "example",
                f"API={api}",
                f"BIN={Path(sys.executable).parent}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert example.returncode == 0, example.stdout + example.stderr
        assert example.stdout.count('"status": 202') == 3, example.stdout

        analyzed: dict[str, dict[str, object]] = {}
        while len(analyzed) < len(EXPECTED):
            assert time.monotonic() < deadline, (analyzed, log.text)
            items = httpx.get(f"{api}/incidents", headers=VIEWER, timeout=10).json()["items"]
            analyzed = {i["source"]: i for i in items if i["status"] == "analyzed"}
            time.sleep(POLL_SECONDS)
        for source, (target, category, evidence) in EXPECTED.items():
            incident = analyzed[source]
            assert str(incident["target"]).startswith(target)
            assert incident["category"] == category, incident
            detail = httpx.get(
                f"{api}/incidents/{incident['id']}", headers=VIEWER, timeout=10
            ).json()
            assert any(evidence in e["text"] for e in detail["evidence"]), detail["evidence"]
    finally:
        system.send_signal(signal.SIGTERM)
        system.wait(timeout=90)
        log.finish()
    assert system.returncode == 0, log.text
