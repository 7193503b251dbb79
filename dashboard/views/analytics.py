"""Analytics: time to resolve, how much resolves with no person, how often fixes hold, how often
operators agree with the category, from the newest incidents and actions the API lists."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st
from analytics import (
    actions_by_lane,
    operator_outcomes,
    resolve_times_by_category,
    summary,
    verdicts,
)
from client import Action, Api, ApiUnavailable, Filters, IncidentDetail, get_incident, list_actions
from common import as_of, duration, load_incidents, percent, session, unavailable

# Each incident's timeline is a request of its own: the figures read the newest ones only.
INCIDENTS_READ = 100
ACTIONS_READ = 500
FRESH_FOR = timedelta(seconds=60)
NOT_EXPOSED = """The models in service, their scores and the retraining history are not shown:
the API does not expose them yet (the registry's MLflow UI has them)."""


@st.cache_data(ttl=FRESH_FOR, show_spinner="Reading incidents and actions…")
def _read(api: Api) -> tuple[list[IncidentDetail], list[Action]]:
    rows, _ = load_incidents(api, Filters(), pages=INCIDENTS_READ // 50)
    details = [get_incident(api, row["id"]) for row in rows[:INCIDENTS_READ]]
    return details, list_actions(api, limit=ACTIONS_READ)


def render() -> None:
    api = session().api
    st.title("Analytics")
    try:
        incidents, actions = _read(api)
    except ApiUnavailable as error:
        unavailable(api, error)
        return
    st.caption(
        f"Over the newest {len(incidents)} incident(s) and {len(actions)} action(s) · {as_of()} "
        f"(read at most every {FRESH_FOR.seconds} s)"
    )
    if not incidents:
        st.info(
            "No incidents yet: the Live page says how to get a first one.",
            icon=":material/waving_hand:",
        )
        return
    figures = summary(incidents, actions)
    mttr, automated, fixes, accuracy = st.columns(4)
    mttr.metric("MTTR (median)", duration(figures.mttr), help="First seen → resolved")
    automated.metric(
        "Automation rate",
        percent(figures.automation_rate),
        help="Resolved incidents no person approved, rejected or gave feedback on",
    )
    fixes.metric(
        "Fix success rate",
        percent(figures.fix_success_rate),
        help="Validated actions, of those that finished applying (validated or rolled back)",
    )
    accuracy.metric(
        "Category accuracy",
        percent(figures.accuracy),
        help="Categories operators confirmed, of those they gave a verdict on",
    )
    st.caption(f"{figures.resolved} of {figures.incidents} incident(s) resolved.")

    left, right = st.columns(2)
    with left:
        st.markdown("**Accuracy per category** (operators' feedback)")
        given = verdicts(incidents)
        if given:
            st.bar_chart(
                {
                    "category": [v.category for v in given],
                    "accuracy": [v.accuracy for v in given],
                },
                x="category",
                y="accuracy",
            )
            st.dataframe(
                [
                    {"category": v.category, "confirmed": v.confirmed, "corrected": v.corrected}
                    for v in given
                ],
                hide_index=True,
                width="stretch",
            )
        else:
            st.caption("No feedback yet: confirm or correct a category on an Incident page.")
    with right:
        st.markdown("**Actions by lane**")
        lanes = actions_by_lane(actions)
        if actions:
            counts = pd.DataFrame({"lane": list(lanes), "actions": map(len, lanes.values())})
            chart = (
                alt.Chart(counts)
                .mark_bar()
                .encode(x=alt.X("lane:N", sort=list(lanes)), y=alt.Y("actions:Q"))
            )
            st.altair_chart(chart, width="stretch")
        else:
            st.caption("No remediation actions yet.")
        outcomes = operator_outcomes(incidents)
        if outcomes:
            st.caption(
                "Operators said fixes worked "
                f"{outcomes['worked']} time(s), failed {outcomes['failed']} time(s)."
            )
    _resolve_times(incidents)
    st.info(NOT_EXPOSED, icon=":material/science:")


def _resolve_times(incidents: list[IncidentDetail]) -> None:
    st.markdown("**Median time to resolve, per category** (hours)")
    times = resolve_times_by_category(incidents)
    if not times:
        st.caption("Nothing resolved yet.")
        return
    st.bar_chart(
        {"category": list(times), "hours": [t.total_seconds() / 3600 for t in times.values()]},
        x="category",
        y="hours",
    )


render()
