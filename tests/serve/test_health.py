"""GET /healthz: 200 when the store and the queue answer, 503 naming the one that does not."""

from __future__ import annotations

from pathlib import Path

import redis
from fastapi.testclient import TestClient

from recoverops.queue import RedisStreamQueue
from recoverops.serve import create_app
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.store.engine import create_store_engine
from tests.serve.harness import Backend, unused_port


def test_healthy_when_store_and_queue_answer(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "checks": {"store": {"ok": True, "error": None}, "queue": {"ok": True, "error": None}},
    }


def test_503_naming_the_queue_when_redis_is_down(sqlite_backend: Backend) -> None:
    with unused_port() as port:
        settings = sqlite_backend.settings.model_copy(
            update={"redis_url": f"redis://127.0.0.1:{port}/0"}
        )
        with TestClient(create_app(settings, store=sqlite_backend.store)) as client:
            response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "ok": False,
        "checks": {
            "store": {"ok": True, "error": None},
            "queue": {"ok": False, "error": "ConnectionError"},
        },
    }


def test_503_naming_the_store_when_postgresql_is_unreachable(
    redis_client: redis.Redis, stream_key: str
) -> None:
    with unused_port() as port:
        store = Store(create_store_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/none"))
        queue = RedisStreamQueue(redis_client, stream=stream_key)
        with TestClient(create_app(Settings(redis_url=None), store=store, queue=queue)) as client:
            response = client.get("/healthz")
        store.close()

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["store"] == {"ok": False, "error": "OperationalError"}
    assert checks["queue"] == {"ok": True, "error": None}


def test_503_naming_both_when_a_sqlite_store_cannot_be_opened(tmp_path: Path) -> None:
    # A folder where the database file should be: SQLite cannot open it, and the outbox queue
    # lives in the same store.
    store = Store(create_store_engine(f"sqlite:///{tmp_path}"))
    with TestClient(create_app(Settings(home=tmp_path), store=store)) as client:
        response = client.get("/healthz")
    store.close()

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["store"]["ok"] is False and checks["queue"]["ok"] is False


def test_without_a_store_the_app_opens_the_one_the_settings_name(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/incidents").json() == {"items": [], "next_cursor": None}
    assert (tmp_path / "home" / "recoverops.db").is_file()


def test_openapi_describes_every_route(sqlite_client: TestClient) -> None:
    schema = sqlite_client.get("/openapi.json").json()
    assert set(schema["paths"]) == {
        "/webhooks/github",
        "/webhooks/gitlab",
        "/webhooks/jenkins",
        "/webhooks/aws",
        "/incidents",
        "/incidents/{incident_id}",
        "/incidents/{incident_id}/feedback",
        "/actions",
        "/actions/{action_id}",
        "/actions/{action_id}/approve",
        "/actions/{action_id}/reject",
        "/analyze",
        "/healthz",
        "/metrics",
        "/dead-letters",
    }
    assert sqlite_client.get("/docs").status_code == 200
