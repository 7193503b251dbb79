"""What every page shares: the signed-in session, the API-down message, loading and formatting.

`app.py` signs in and stores the session (`Session`) before it runs a page; a page reads it with
`session()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import streamlit as st
from client import (
    Api,
    ApiUnavailable,
    Filters,
    Identity,
    Incident,
    SignInRequired,
    filter_choices,
    list_incidents,
)

SESSION_KEY = "recoverops_session"
REFRESH_EVERY = timedelta(seconds=10)
ANY = "any"
# The most incidents a chart or a figure reads: 10 pages of the API's 50.
WINDOW_PAGES = 10
FIRST_INCIDENT = """No incidents yet. To see a first one without a CI account, play in the
examples' failing jobs, with their logs, from the repository's folder:

    make example

(`recoverops replay DELIVERY.json --log JOB.log` plays one; examples/ holds three). For your
own pipelines, point a GitHub, GitLab or Jenkins webhook at this API and give RecoverOps a
token to read job logs: see docs/ci-setup.md. The list refreshes itself."""


@dataclass(frozen=True, slots=True)
class Session:
    api: Api
    identity: Identity | None  # None: the API could not say who this is (down, or signed out)


def session() -> Session:
    found = st.session_state.get(SESSION_KEY)
    assert isinstance(found, Session), "app.py stores the session before any page runs"
    return found


def unavailable(api: Api, error: ApiUnavailable) -> None:
    """The one message for an API that cannot be read, with what to do about it."""
    if isinstance(error, SignInRequired):
        st.warning(f"Sign in (in the sidebar) to see this page: {error}", icon=":material/lock:")
        return
    st.error(
        f"The RecoverOps API at {api.base_url} is unavailable: {error}. Start it with "
        "`recoverops up` (or `recoverops api`), or correct RECOVEROPS_DASHBOARD_API_URL.",
        icon=":material/cloud_off:",
    )


def load_incidents(
    api: Api, filters: Filters, *, pages: int = WINDOW_PAGES
) -> tuple[list[Incident], bool]:
    """The newest `pages` pages of incidents, fetched afresh; and whether more exist."""
    rows: list[Incident] = []
    cursor: str | None = None
    for _ in range(pages):
        page = list_incidents(api, filters, cursor)
        rows.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return rows, cursor is not None


@st.cache_data(ttl=timedelta(minutes=5), show_spinner=False)
def _cached_choices(api: Api) -> dict[str, list[str]]:
    return filter_choices(api)


def choices(api: Api) -> dict[str, list[str]]:
    """The filters' values from the API's schema; none (only "any") while it is unreachable."""
    try:
        found: dict[str, list[str]] = _cached_choices(api)  # errors are not cached
        return found
    except ApiUnavailable:
        return {}


def pick(label: str, values: list[str], *, key: str) -> str | None:
    chosen = st.selectbox(label, [ANY, *values], key=key)
    return None if chosen == ANY else chosen


def when(iso: str | None) -> str:
    """An API timestamp in UTC, to the second (text: pyarrow would drop a datetime's zone)."""
    if iso is None:
        return "—"
    return f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def percent(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "—"


def duration(value: timedelta | float | None) -> str:
    """2 d 4 h, 3 h 05 min, 4 min 10 s, 12 s; — for none."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    days, seconds = divmod(seconds, 86400)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def as_of() -> str:
    return f"as of {datetime.now(UTC):%H:%M:%S} UTC"
