"""The actors' fixtures (a fake GitHub serving a real failing log, settings naming it), and Ray."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import ray

from tests.actors.conftest import github, settings, store

__all__ = ["github", "ray_running", "settings", "store"]


@pytest.fixture
def ray_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local Ray: the one a session fixture of another folder started, if any (Ray allows one
    per process), else one of this test's own."""
    if ray.is_initialized():
        yield
        return
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
