"""The LLM's answers by key (`diagnosis.llm.cache`): written once, read on every recurrence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from recoverops.store.tables import LlmAnswerRow


def get(session: Session, key: str) -> str | None:
    return session.execute(
        select(LlmAnswerRow.answer).where(LlmAnswerRow.key == key)
    ).scalar_one_or_none()


def save(session: Session, *, key: str, model: str, answer: str, at: datetime) -> None:
    """Keep `answer` under `key` unless one is there: two detectors answering the same failure
    at once race safely (ON CONFLICT DO NOTHING), and the first answer stays."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LlmAnswerRow)
        .values(key=key, model=model[:255], answer=answer, created_at=at)
        .on_conflict_do_nothing(index_elements=["key"])
    )
