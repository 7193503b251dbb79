"""Log lines carry the ids of the work they are about, as JSON fields or a text prefix."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from recoverops.actors.analyzer import Analyzer
from recoverops.actors.handles import spawn
from recoverops.observability import configure_logging, log_context
from recoverops.observability.logs import JsonFormatter, TextFormatter
from recoverops.settings import Settings
from recoverops.store import Store


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Configure RecoverOps' logging as a command would, writing into a buffer; undo after."""
    root = logging.getLogger("recoverops")
    saved = (list(root.handlers), root.level, root.propagate)
    configure_logging("json", "DEBUG")
    buffer = io.StringIO()
    [handler] = [h for h in root.handlers if h.get_name() == "recoverops"]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    yield buffer
    root.handlers[:], root.level, root.propagate = saved


def parsed(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_json_line_carries_the_ids_of_every_open_context(lines: io.StringIO) -> None:
    log = logging.getLogger("recoverops.actors")
    with log_context(event_id=7):
        log.info("fetched the log of event %s", 7)
        with log_context(incident_id=3, action_id=None):
            log.warning("incident stored", extra={"category": "build.test"})
    log.info("outside")
    first, second, third = parsed(lines)
    assert first["message"] == "fetched the log of event 7"
    assert first["event_id"] == 7 and "incident_id" not in first
    assert second["incident_id"] == 3 and second["event_id"] == 7
    assert second["category"] == "build.test" and second["level"] == "warning"
    assert "action_id" not in second  # None is left out
    assert "event_id" not in third and third["logger"] == "recoverops.actors"


def test_each_thread_keeps_its_own_context(lines: io.StringIO) -> None:
    log = logging.getLogger("recoverops.actors")
    entered = threading.Barrier(2)

    def work(event_id: int) -> None:
        with log_context(event_id=event_id):
            entered.wait(timeout=10)  # both contexts are open at once
            log.info("working")

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(line["event_id"] for line in parsed(lines)) == [1, 2]  # type: ignore[type-var]


def test_an_exception_is_one_field_and_the_line_stays_one_line(lines: io.StringIO) -> None:
    try:
        raise KeyError("job")
    except KeyError:
        logging.getLogger("recoverops").exception("lost the job")
    [line] = parsed(lines)
    assert "KeyError" in str(line["exception"]) and line["message"] == "lost the job"


def test_configuring_again_replaces_the_handler_rather_than_doubling_lines() -> None:
    root = logging.getLogger("recoverops")
    saved = (list(root.handlers), root.level, root.propagate)
    try:
        configure_logging("text")
        configure_logging("json", "warning")
        ours = [h for h in root.handlers if h.get_name() == "recoverops"]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
        assert root.level == logging.WARNING
    finally:
        root.handlers[:], root.level, root.propagate = saved


def test_a_text_line_shows_the_ids_as_a_prefix() -> None:
    record = logging.makeLogRecord(
        {"name": "recoverops.actors", "levelname": "INFO", "msg": "done", "incident_id": 3}
    )
    record.event_id = 7
    assert "[incident=3 event=7] done" in TextFormatter().format(record)


def test_an_actor_sets_up_its_process_from_the_settings_it_is_given(
    ray_running: None, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, log_format="json")
    Store.open(settings).close()  # migrated, as `up` leaves it
    analyzer = spawn(Analyzer, settings, options={"num_cpus": 0})
    try:
        formatters = ray.get(analyzer.__ray_call__.remote(_our_formatters), timeout=120)
    finally:
        ray.kill(analyzer)
    assert formatters == ["JsonFormatter"]
    # Built in this process (a test's), the same class leaves logging as pytest set it.
    in_process = Analyzer(settings)
    in_process.close()
    assert _our_formatters(in_process) == []


def _our_formatters(_: object) -> list[str]:
    root = logging.getLogger("recoverops")
    return [type(h.formatter).__name__ for h in root.handlers if h.get_name() == "recoverops"]
