"""The MLflow server the server-flow tests train against: started once tests are collected, so
it boots while the tests before them run, and stopped when the session ends."""

from __future__ import annotations

import pytest

from tests.training.mlflow_server import BootingServer, MlflowServer

# The test module that needs the server; nothing starts one when it is not selected.
SERVER_TESTS = "test_train_server.py"
_BOOTING = pytest.StashKey[BootingServer]()


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.path.name == SERVER_TESTS for item in session.items):
        booting = BootingServer()
        session.config.stash[_BOOTING] = booting
        session.config.add_cleanup(booting.stop)


@pytest.fixture(scope="session")
def mlflow_server(request: pytest.FixtureRequest) -> MlflowServer:
    booting = request.config.stash.get(_BOOTING, None)
    if booting is None:  # requested from another module: start it now
        booting = BootingServer()
        request.config.stash[_BOOTING] = booting
        request.config.add_cleanup(booting.stop)
    return booting.ready()
