"""The LLM tests' servers: the real small model (llama.cpp serving SmolLM2-135M, started once
per session), and helpers to diagnose a fixture log with an advisor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm_server import local_llm


@pytest.fixture(scope="session")
def llm_url() -> Iterator[str]:
    """`http://127.0.0.1:PORT/v1` of the local model server."""
    with local_llm() as url:
        yield url
