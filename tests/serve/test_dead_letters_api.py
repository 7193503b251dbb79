"""GET /dead-letters, their counter in /metrics, and `recoverops replay --dead-letters`."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from recoverops.cli.main import main
from recoverops.cli.replay import replay_dead_letters
from recoverops.queue import OutboxQueue
from tests.serve.harness import Backend
from tests.serve.test_metrics import samples


def test_dead_letters_are_listed_counted_and_replayed(
    sqlite_backend: Backend, sqlite_client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    store = sqlite_backend.store
    assert sqlite_client.get("/dead-letters").json() == {"items": []}
    first = store.add_dead_letter(
        "events", key="event:7", payload={"event_id": 7}, attempts=5, last_error="KeyError: 'x'"
    )
    second = store.add_dead_letter(
        "events", key="event:8", payload={"event_id": 8}, attempts=6, last_error="no error"
    )
    # A detector that died before acking records the same message again: still one letter.
    again = store.add_dead_letter(
        "events", key="event:7", payload={"event_id": 7}, attempts=6, last_error="later"
    )
    assert again == first

    listed = sqlite_client.get("/dead-letters").json()["items"]
    assert [(d["id"], d["event_id"], d["attempts"], d["last_error"]) for d in listed] == [
        (second, 8, 6, "no error"),
        (first, 7, 5, "KeyError: 'x'"),
    ]
    assert sqlite_client.get("/dead-letters", params={"limit": 0}).status_code == 422
    scraped = samples(sqlite_client)
    assert scraped[("recoverops_dead_letters_total", frozenset())] == 2
    assert scraped[("recoverops_dead_letters_waiting", frozenset())] == 2

    assert replay_dead_letters(sqlite_backend.settings) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["key"] for line in lines] == ["event:7", "event:8"]  # oldest first
    assert all(line["queued"] for line in lines)
    queue = OutboxQueue(store, name="events")
    assert sorted(m.payload["event_id"] for m in queue.claim("detector")) == [7, 8]
    assert sqlite_client.get("/dead-letters").json() == {"items": []}
    scraped = samples(sqlite_client)
    assert scraped[("recoverops_dead_letters_total", frozenset())] == 2  # a counter: never down
    assert scraped[("recoverops_dead_letters_waiting", frozenset())] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay"], "name at least one FILE to post, or --dead-letters"),
        (["replay", "--dead-letters", "a.json"], "--dead-letters takes no FILE and no --log"),
    ],
)
def test_replay_needs_files_or_dead_letters_not_both(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_replay_of_dead_letters_from_the_command_line(
    sqlite_backend: Backend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = sqlite_backend.store
    store.add_dead_letter(
        "events", key="event:9", payload={"event_id": 9}, attempts=5, last_error="x"
    )
    monkeypatch.setenv("RECOVEROPS_HOME", str(sqlite_backend.settings.home))

    assert main(["replay", "--dead-letters"]) == 0

    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["key"] == "event:9"
    assert store.dead_letters() == []
