"""The LLM's answers kept in the store (SQLite and PostgreSQL): another process's advisor, with
an empty in-process cache, answers a recurring failure from the store without a request."""

from __future__ import annotations

import json

from recoverops.diagnosis.llm import AnswerCache
from recoverops.store import Store
from tests.llm.scripted_server import completion, scripted
from tests.llm.support import FLAKE8, OOM, advisor, with_llm

ANSWER = json.dumps({"explanation": "Unused imports.", "fix": 0, "confidence": 0.6})


def test_an_answer_kept_in_the_store_serves_a_recurring_failure(store: Store) -> None:
    text = FLAKE8.read_text()
    with scripted(completion(ANSWER)) as server:
        with_llm(text, advisor(server.url, cache=AnswerCache(store=store)))
        assert len(server.requests) == 1

        # A fresh process: nothing in its memory, the store shared.
        later = advisor(server.url, cache=AnswerCache(store=store))
        result = with_llm(text, later)
        assert len(server.requests) == 1
    assert later.requests == 0
    llm = result.root_cause.llm
    assert llm is not None and llm["used"] is True and llm["cached"] is True
    assert result.root_cause.explanation == "Unused imports."


def test_another_failure_is_asked_and_a_failed_answer_is_not_kept(store: Store) -> None:
    cache = AnswerCache(store=store)
    with scripted(completion("not json")) as server:
        first = with_llm(FLAKE8.read_text(), advisor(server.url, cache=cache))
        assert first.root_cause.llm is not None and first.root_cause.llm["used"] is False
        server.reply = completion(ANSWER)
        with_llm(FLAKE8.read_text(), advisor(server.url, cache=cache))  # asked again
        with_llm(OOM.read_text(), advisor(server.url, cache=cache))  # another failure
        assert len(server.requests) == 3


def test_the_first_answer_kept_stays(store: Store) -> None:
    store.save_llm_answer("k" * 64, model="m", answer='{"a": 1}')
    store.save_llm_answer("k" * 64, model="m", answer='{"a": 2}')  # a racing detector's
    assert store.llm_answer("k" * 64) == '{"a": 1}'
    assert store.llm_answer("x" * 64) is None
