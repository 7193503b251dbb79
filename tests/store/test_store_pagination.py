"""Incidents are listed newest first, filtered, a page at a time, without skips or repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recoverops.errors import InvalidCursorError
from recoverops.incidents import IncidentStatus, Source
from recoverops.store import IncidentPage, Store, StoredIncident
from recoverops.taxonomy import Category

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def open_incident(
    store: Store,
    name: str,
    *,
    at: datetime,
    category: Category = Category.BUILD_TEST,
    source: Source = Source.GITHUB,
    target: str = "octo/app:build",
) -> StoredIncident:
    return store.upsert_incident(
        f"fp-{name}", target=target, category=category, source=source, seen_at=at
    ).incident


def all_pages(store: Store, *, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = store.list_incidents(limit=limit, cursor=cursor)
        pages.append([incident.fingerprint for incident in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_pages_walk_every_incident_newest_first(store: Store) -> None:
    for n in range(7):
        open_incident(store, str(n), at=T0 + timedelta(minutes=n))

    assert all_pages(store, limit=3) == [
        ["fp-6", "fp-5", "fp-4"],
        ["fp-3", "fp-2", "fp-1"],
        ["fp-0"],
    ]


def test_incidents_first_seen_together_are_ordered_by_id(store: Store) -> None:
    for name in "abcde":
        open_incident(store, name, at=T0)

    assert all_pages(store, limit=2) == [["fp-e", "fp-d"], ["fp-c", "fp-b"], ["fp-a"]]


def test_an_exact_last_page_has_no_next_cursor(store: Store) -> None:
    for n in range(4):
        open_incident(store, str(n), at=T0 + timedelta(minutes=n))
    assert [len(page) for page in all_pages(store, limit=2)] == [2, 2]
    assert store.list_incidents(limit=10).next_cursor is None


def test_activity_between_pages_neither_skips_nor_repeats(store: Store) -> None:
    for n in range(4):
        open_incident(store, str(n), at=T0 + timedelta(minutes=n))
    first = store.list_incidents(limit=2)

    open_incident(store, "new", at=T0 + timedelta(hours=1))  # lands on page one
    open_incident(store, "1", at=T0 + timedelta(hours=2))  # a recurrence of an unread one
    second = store.list_incidents(limit=2, cursor=first.next_cursor)

    assert [incident.fingerprint for incident in first.items] == ["fp-3", "fp-2"]
    assert [incident.fingerprint for incident in second.items] == ["fp-1", "fp-0"]


def test_filters_combine(store: Store) -> None:
    open_incident(store, "test", at=T0)
    open_incident(store, "lint", at=T0, category=Category.BUILD_LINT)
    open_incident(store, "gitlab", at=T0, source=Source.GITLAB)
    open_incident(store, "other", at=T0, target="octo/api:deploy")
    resolved = open_incident(store, "resolved", at=T0)
    store.move_incident(resolved.id, IncidentStatus.ANALYZED)
    store.move_incident(resolved.id, IncidentStatus.RESOLVED)

    def names(page: IncidentPage) -> set[str]:
        return {incident.fingerprint for incident in page.items}

    assert names(store.list_incidents(category=Category.BUILD_LINT)) == {"fp-lint"}
    assert names(store.list_incidents(source=Source.GITLAB)) == {"fp-gitlab"}
    assert names(store.list_incidents(target="octo/api:deploy")) == {"fp-other"}
    assert names(store.list_incidents(status=IncidentStatus.RESOLVED)) == {"fp-resolved"}
    github_app_open = store.list_incidents(
        status=IncidentStatus.OPEN, source=Source.GITHUB, target="octo/app:build"
    )
    assert names(github_app_open) == {"fp-test", "fp-lint"}


def test_filters_and_cursor_work_together(store: Store) -> None:
    for n in range(5):
        open_incident(
            store, f"lint-{n}", at=T0 + timedelta(minutes=n), category=Category.BUILD_LINT
        )
        open_incident(store, f"test-{n}", at=T0 + timedelta(minutes=n))

    first = store.list_incidents(category=Category.BUILD_LINT, limit=3)
    second = store.list_incidents(category=Category.BUILD_LINT, limit=3, cursor=first.next_cursor)

    assert [i.fingerprint for i in first.items + second.items] == [
        f"fp-lint-{n}" for n in reversed(range(5))
    ]
    assert second.next_cursor is None


@pytest.mark.parametrize("cursor", ["nonsense", "", "bm90fGE"])
def test_a_cursor_the_store_did_not_make_is_refused(store: Store, cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        store.list_incidents(cursor=cursor)


@pytest.mark.parametrize("limit", [0, -1, 501])
def test_a_page_size_out_of_range_is_refused(store: Store, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.list_incidents(limit=limit)
