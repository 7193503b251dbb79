"""The LLM's checked answers by failure, so that a recurring failure costs no request.

The key is the incident's fingerprint (the target and the failure chunk's templates), with the
model, the prompt's version and the fixes offered (their kind, files, actions and patch): the
answer chooses among those fixes by index, so another set of fixes is another question. The
same failure on another target is asked again, on purpose: its context then holds the similar
past incidents, which the first answer could not see. A failure without templates is keyed by
its redacted chunk instead.

Two levels: an in-process LRU, and the store's `llm_answers` table, which every process of the
system shares and which outlives it. The store is optional (`recoverops analyze` without one
keeps the LRU only); a store that fails is logged and skipped: the cache only saves requests.
Only answers that passed the schema are kept.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from recoverops.analysis import Analysis
from recoverops.diagnosis.model import FixProposal
from recoverops.incidents import fingerprint
from recoverops.redaction import redact_line

logger = logging.getLogger(__name__)

# Bumped when the prompt or the schema changes, so that old answers are not reused.
PROMPT_VERSION = "1"
LRU_SIZE = 512


class AnswerStore(Protocol):
    """What the cache needs of `recoverops.store.Store`."""

    def llm_answer(self, key: str) -> str | None: ...

    def save_llm_answer(self, key: str, *, model: str, answer: str) -> None: ...


def cache_key(
    analysis: Analysis, fixes: Sequence[FixProposal], *, model: str, target: str = ""
) -> str:
    failure = (
        fingerprint(target=target, template_ids=analysis.templates)
        if analysis.templates
        else "chunk:" + "\n".join(redact_line(line) for line in analysis.chunk)
    )
    digest = hashlib.sha256()
    for part in (PROMPT_VERSION, model, failure):
        digest.update(part.encode())
        digest.update(b"\0")
    for fix in fixes:
        for part in (fix.kind, *fix.files, "|", *fix.actions, "|", fix.patch or ""):
            digest.update(part.encode())
            digest.update(b"\0")
        digest.update(b"\1")
    return digest.hexdigest()


class AnswerCache:
    def __init__(self, *, store: AnswerStore | None = None, size: int = LRU_SIZE) -> None:
        self._store = store
        self._size = size
        self._lru: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._lru:
                self._lru.move_to_end(key)
                return self._lru[key]
        if self._store is None:
            return None
        try:
            found = self._store.llm_answer(key)
        except Exception:  # a store outage costs a request, nothing more
            logger.warning("the store's LLM answers cannot be read", exc_info=True)
            return None
        if found is not None:
            self._remember(key, found)
        return found

    def put(self, key: str, *, model: str, answer: str) -> None:
        self._remember(key, answer)
        if self._store is None:
            return
        try:
            self._store.save_llm_answer(key, model=model, answer=answer)
        except Exception:
            logger.warning("an LLM answer cannot be kept in the store", exc_info=True)

    def _remember(self, key: str, answer: str) -> None:
        with self._lock:
            self._lru[key] = answer
            self._lru.move_to_end(key)
            while len(self._lru) > self._size:
                self._lru.popitem(last=False)
