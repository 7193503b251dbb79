"""Live: the API's health, each source's deliveries, failures and lag, and the newest failures.

Only the fragment reruns on the timer, so the page refreshes without a full reload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st
from analytics import SOURCES, Pipeline, SourceHealth, metric_samples, pipeline, source_health
from client import Api, ApiUnavailable, Filters, Incident, dead_letters, health, metrics_text
from common import (
    FIRST_INCIDENT,
    REFRESH_EVERY,
    as_of,
    duration,
    load_incidents,
    session,
    unavailable,
    when,
)

NEWEST = 20


def render() -> None:
    st.title("Live")
    live = st.toggle(f"Refresh every {REFRESH_EVERY.seconds} s", value=True, key="live")
    refresh = st.fragment(_live, run_every=REFRESH_EVERY if live else None)
    refresh(session().api)


def _live(api: Api) -> None:
    try:
        api_health = health(api)
        incidents, _ = load_incidents(api, Filters())
        samples = metric_samples(metrics_text(api))
        letters = dead_letters(api, limit=10)
    except ApiUnavailable as error:
        unavailable(api, error)
        return
    if api_health.ok:
        st.success("API healthy", icon=":material/check_circle:")
    else:
        st.warning(
            f"API degraded: {', '.join(api_health.down) or 'unknown'} down",
            icon=":material/warning:",
        )
    st.caption(f"{len(incidents)} incident(s) read · {as_of()}")

    _pipeline(pipeline(samples))

    st.subheader("Sources")
    sources = source_health(incidents, samples, now=datetime.now(UTC))
    st.dataframe([_source_row(s) for s in sources], hide_index=True, width="stretch")
    if letters:
        st.warning(
            f"{len(letters)} event(s) given up on (GET /dead-letters); after a fix, "
            "`recoverops replay --dead-letters` queues them again.",
            icon=":material/mail:",
        )

    st.subheader("Newest failures")
    if not incidents:
        st.info(FIRST_INCIDENT, icon=":material/waving_hand:")
        return
    st.dataframe(
        [_failure_row(i) for i in incidents[:NEWEST]],
        hide_index=True,
        width="stretch",
    )


def _pipeline(figures: Pipeline) -> None:
    waiting, in_flight, *stages = st.columns(2 + len(figures.median_latency))
    waiting.metric("Queued", "—" if figures.waiting is None else figures.waiting)
    in_flight.metric("In flight", "—" if figures.in_flight is None else figures.in_flight)
    for column, (stage, seconds) in zip(stages, figures.median_latency.items(), strict=True):
        shown = "—" if seconds is None else f"{seconds:.2f} s"
        column.metric(f"{stage} (median, 1 h)", shown)


def _source_row(health: SourceHealth) -> dict[str, Any]:
    return {
        "source": SOURCES[health.source],
        "state": health.state,
        "deliveries": health.events,
        "failures (24 h)": health.failures,
        "last failure": "—"
        if health.last_failure is None
        else when(health.last_failure.isoformat()),
        "watch lag": "pushed (webhook)" if health.lag is None else duration(health.lag),
    }


def _failure_row(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident["id"],
        "source": SOURCES.get(incident["source"], incident["source"]),
        "category": incident["category"],
        "status": incident["status"],
        "target": incident["target"],
        "last seen": when(incident["last_seen"]),
    }


render()
