"""INSERT ... ON CONFLICT DO NOTHING for the two databases the store runs on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session


def insert_or_ignore(
    session: Session,
    id_column: InstrumentedAttribute[int],
    values: Mapping[str, Any],
    *,
    unique_columns: Sequence[str],
) -> int | None:
    """Insert `values` into `id_column`'s table; the new id, or None when the key exists.

    A plain INSERT would raise on the duplicate and abort the transaction on PostgreSQL; ON
    CONFLICT lets concurrent writers of the same key race safely: exactly one of them inserts.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(id_column.class_)
        .values(dict(values))
        .on_conflict_do_nothing(index_elements=list(unique_columns))
        .returning(id_column)
    )
    new_id: int | None = session.execute(statement).scalar_one_or_none()
    return new_id
