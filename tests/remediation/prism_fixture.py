"""GitHub's REST API as Prism serves it from GitHub's own OpenAPI description: requests are
validated against the description (a wrong path, method, body or missing header is refused)
and answered with its examples. Prism and the description are installed with npm, once, into
~/.cache/recoverops/prism (RECOVEROPS_PRISM_CACHE), pinned: prism 5.15+ needs Node 24.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.kubernetes.cluster import free_port

PRISM = "@stoplight/prism-cli@5.14.2"
DESCRIPTION = "@octokit/openapi@23.0.2"
READY_TIMEOUT_S = 180.0  # Prism reads a 10 MB description: ~25 s on a quiet machine


def _cache() -> Path:
    return Path(os.environ.get("RECOVEROPS_PRISM_CACHE", Path.home() / ".cache/recoverops/prism"))


def install() -> tuple[Path, Path]:
    folder = _cache()
    binary = folder / "node_modules/.bin/prism"
    spec = folder / "node_modules/@octokit/openapi/generated/api.github.com.json"
    if not (binary.exists() and spec.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", PRISM, DESCRIPTION],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        if done.returncode != 0:
            pytest.fail(f"npm could not install Prism: {done.stderr[-2000:]}", pytrace=False)
    return binary, spec


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary, spec = install()
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if server.poll() is not None:
            pytest.fail(f"prism exited: {log.read_text()[-2000:]}", pytrace=False)
        try:
            httpx.get(f"{url}/meta", timeout=2.0)
            break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"prism did not answer within {READY_TIMEOUT_S:g}s", pytrace=False)
        time.sleep(0.5)  # the poll interval of a readiness wait
    yield url
    server.terminate()
    server.wait(10)
