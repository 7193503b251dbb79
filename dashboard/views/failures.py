"""Failures: incidents over time by category, source or repository, filterable; one opens on
the Incident page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from analytics import over_time
from client import Api, ApiUnavailable, Filters, Incident
from common import (
    FIRST_INCIDENT,
    REFRESH_EVERY,
    as_of,
    choices,
    load_incidents,
    pick,
    session,
    unavailable,
    when,
)

BUCKETS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
DIMENSIONS = ("category", "source", "repository")
INCIDENT_PAGE = "views/incident.py"
OPENED_KEY = "incident_opened"


def render() -> None:
    api = session().api
    st.title("Failures")
    with st.sidebar:
        st.header("Filters")
        found = choices(api)
        filters = Filters(
            status=pick("Status", found.get("status", []), key="filter_status"),
            category=pick("Category", found.get("category", []), key="filter_category"),
            source=pick("Source", found.get("source", []), key="filter_source"),
            target=st.text_input("Target (exact)", key="filter_target").strip() or None,
        )
        live = st.toggle(f"Refresh every {REFRESH_EVERY.seconds} s", value=True, key="live")
    refresh = st.fragment(_failures, run_every=REFRESH_EVERY if live else None)
    refresh(api, filters)


def _failures(api: Api, filters: Filters) -> None:
    # "Load more" raises the number of pages shown; a new API or filter starts again at one.
    view = (api, filters)
    if st.session_state.get("view") != view:
        st.session_state.view = view
        st.session_state.pages = 1
    try:
        rows, more = load_incidents(api, filters, pages=st.session_state.pages)
    except ApiUnavailable as error:
        unavailable(api, error)
        return
    st.caption(f"{len(rows)} incident(s) · {as_of()}")
    if not rows and filters.params():
        st.info("No incidents match.")
        return
    if not rows:
        st.info(FIRST_INCIDENT, icon=":material/waving_hand:")
        return

    _chart(rows)
    st.dataframe(_table(rows), hide_index=True, width="stretch")
    if more:
        st.button("Load more", key="load_more", on_click=_load_more)
    by_id = {row["id"]: row for row in rows}
    st.selectbox(
        "Open an incident",
        list(by_id),
        index=None,
        format_func=lambda number: _label(by_id[number]),
        placeholder="Choose an incident to see its evidence, root cause, fix and timeline",
        key="incident",
        on_change=_open,
    )
    opened = st.session_state.pop(OPENED_KEY, None)
    if opened is not None:
        st.switch_page(INCIDENT_PAGE, query_params={"id": str(opened)})


def _open() -> None:
    # The choice is taken and the box emptied, so coming back here does not open it again.
    st.session_state[OPENED_KEY] = st.session_state.incident
    st.session_state.incident = None


def _chart(rows: list[Incident]) -> None:
    left, right = st.columns(2)
    by = left.radio("By", DIMENSIONS, horizontal=True, key="chart_by")
    bucket = right.radio("Per", list(BUCKETS), index=1, horizontal=True, key="chart_bucket")
    counts = over_time(rows, by=by, bucket=BUCKETS[bucket])
    chart = (
        alt.Chart(pd.DataFrame(counts))
        .mark_bar()
        .encode(
            x=alt.X("when:T", title=f"first seen (per {bucket}, UTC)"),
            y=alt.Y("incidents:Q", title="incidents"),
            color=alt.Color(f"{by}:N", title=by),
            tooltip=["when:T", f"{by}:N", "incidents:Q"],
        )
    )
    st.altair_chart(chart, width="stretch")


def _load_more() -> None:
    st.session_state.pages += 1


def _table(rows: list[Incident]) -> list[dict[str, Any]]:
    return [
        {
            "id": row["id"],
            "category": row["category"],
            "source": row["source"],
            "status": row["status"],
            "target": row["target"],
            "occurrences": row["occurrences"],
            "first seen": when(row["first_seen"]),
            "last seen": when(row["last_seen"]),
        }
        for row in rows
    ]


def _label(row: Incident) -> str:
    return f"#{row['id']} · {row['category']} · {row['status']} · {row['target']}"


render()
