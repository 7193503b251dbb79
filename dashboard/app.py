"""RecoverOps incidents, live: what failed, why (with the evidence), and what happened since.

    .venv/bin/streamlit run dashboard/app.py     # the API at RECOVEROPS_DASHBOARD_API_URL

The page reads the HTTP API only (through `client`, its sibling module), and refreshes itself.
The API's address comes from the settings alone, never from the page's URL or a form: the page's
server makes the requests, so a visitor who could name the address could make it fetch any URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import streamlit as st
from client import (
    ApiUnavailable,
    Filters,
    Incident,
    IncidentDetail,
    filter_choices,
    get_incident,
    health,
    list_incidents,
    send_feedback,
)
from pydantic import ValidationError

from recoverops.settings import Settings, problems

REFRESH_EVERY = timedelta(seconds=10)
ANY = "any"
NO_VERDICT = "(no verdict)"
OUTCOMES = {"not known": None, "worked": "worked", "failed": "failed"}
FIRST_INCIDENT = """No incidents yet. To see a first one without a CI account, play in the
examples' failing jobs, with their logs, from the repository's folder:

    make example

(`recoverops replay DELIVERY.json --log JOB.log` plays one; examples/ holds three). For your
own pipelines, point a GitHub, GitLab or Jenkins webhook at this API and give RecoverOps a
token to read job logs: see docs/ci-setup.md. The list refreshes itself."""
# A novelty at or above this is flagged. On the shared corpora, logs of projects the model never
# saw score a median 0.56; logs of other languages' builds 0.91, infrastructure errors 0.94.
NOVEL = 0.8


def main() -> None:
    st.set_page_config(page_title="RecoverOps · incidents", layout="wide")
    try:
        base_url = Settings().dashboard_api_url
    except ValidationError as error:
        st.error("Invalid settings: " + "; ".join(problems(error)))
        return
    filters, live = _sidebar(base_url)
    st.title("RecoverOps · incidents")
    # Only the fragment reruns on the timer: the sidebar keeps its state while the list refreshes.
    refresh = st.fragment(_incidents, run_every=REFRESH_EVERY if live else None)
    refresh(base_url, filters)


def _sidebar(base_url: str) -> tuple[Filters, bool]:
    with st.sidebar:
        st.header("API")
        st.caption(f"{base_url} (RECOVEROPS_DASHBOARD_API_URL)")
        live = st.toggle(f"Refresh every {REFRESH_EVERY.seconds} s", value=True, key="live")
        st.header("Filters")
        choices = _choices(base_url)
        filters = Filters(
            status=_pick("Status", choices.get("status", [])),
            category=_pick("Category", choices.get("category", [])),
            source=_pick("Source", choices.get("source", [])),
        )
    return filters, live


@st.cache_data(ttl=timedelta(minutes=5), show_spinner=False)
def _cached_choices(base_url: str) -> dict[str, list[str]]:
    return filter_choices(base_url)


def _choices(base_url: str) -> dict[str, list[str]]:
    """The filters' values from the API's schema; none (only "any") while it is unreachable."""
    try:
        choices: dict[str, list[str]] = _cached_choices(base_url)  # errors are not cached
        return choices
    except ApiUnavailable:
        return {}


def _pick(label: str, values: Sequence[str]) -> str | None:
    chosen = st.selectbox(label, [ANY, *values], key=f"filter_{label.lower()}")
    return None if chosen == ANY else chosen


def _incidents(base_url: str, filters: Filters) -> None:
    # "Load more" raises the number of pages shown; a new API or filter starts again at one.
    view = (base_url, filters)
    if st.session_state.get("view") != view:
        st.session_state.view = view
        st.session_state.pages = 1
    try:
        api = health(base_url)
        rows, more = _load(base_url, filters, pages=st.session_state.pages)
    except ApiUnavailable as error:
        st.error(
            f"The RecoverOps API at {base_url} is unavailable: {error}. Start it with "
            "`recoverops up` (or `recoverops api`), or correct RECOVEROPS_DASHBOARD_API_URL.",
            icon="🚫",
        )
        return

    if api.ok:
        st.success("API healthy", icon="✅")
    else:
        st.warning(f"API degraded: {', '.join(api.down) or 'unknown'} down", icon="⚠️")
    st.caption(f"{len(rows)} incident(s) · as of {datetime.now(UTC):%H:%M:%S} UTC")
    if not rows and filters.params():
        st.info("No incidents match.")
        return
    if not rows:
        st.info(FIRST_INCIDENT, icon="👋")
        return

    st.dataframe(_table(rows), hide_index=True, width="stretch")
    if more:
        st.button("Load more", key="load_more", on_click=_load_more)

    by_id = {row["id"]: row for row in rows}
    chosen = st.selectbox(
        "Incident",
        list(by_id),
        index=None,
        format_func=lambda number: _label(by_id[number]),
        placeholder="Choose an incident to see its evidence and timeline",
        key="incident",
    )
    if chosen is not None:
        _detail(base_url, chosen)


def _load(base_url: str, filters: Filters, *, pages: int) -> tuple[list[Incident], bool]:
    """The first `pages` pages, fetched afresh each refresh; and whether more exist."""
    rows: list[Incident] = []
    cursor: str | None = None
    for _ in range(pages):
        page = list_incidents(base_url, filters, cursor)
        rows.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return rows, cursor is not None


def _load_more() -> None:
    st.session_state.pages += 1


def _table(rows: list[Incident]) -> list[dict[str, Any]]:
    return [
        {
            "id": row["id"],
            "category": row["category"],
            "status": row["status"],
            "target": row["target"],
            "occurrences": row["occurrences"],
            "first seen": _when(row["first_seen"]),
            "last seen": _when(row["last_seen"]),
        }
        for row in rows
    ]


def _label(row: Incident) -> str:
    return f"#{row['id']} · {row['category']} · {row['status']} · {row['target']}"


def _detail(base_url: str, incident_id: int) -> None:
    try:
        incident = get_incident(base_url, incident_id)
    except ApiUnavailable as error:
        st.error(f"Incident #{incident_id} could not be read: {error}", icon="🚫")
        return
    analysis = incident["analysis"] or {}
    st.subheader(f"#{incident['id']} · {incident['target']}")
    st.markdown(analysis.get("summary") or "_Not analyzed yet._")
    category, status, confidence, occurrences = st.columns(4)
    category.metric("Category", incident["category"])
    status.metric("Status", incident["status"])
    confidence.metric("Confidence", _percent(analysis.get("confidence")))
    occurrences.metric("Occurrences", incident["occurrences"])
    st.caption(_provenance(analysis))
    _evidence(incident)
    _timeline(incident)
    _feedback_form(base_url, incident)


def _provenance(analysis: dict[str, Any]) -> str:
    """Who decided the category, and how unlike the failures the model learned from this is."""
    decided = analysis.get("decided_by") or "rules"
    line = f"Decided by {decided}"
    anomaly = analysis.get("anomaly")
    if isinstance(anomaly, int | float):
        line += f" · novelty {anomaly:.2f} (0: like the training failures, 1: nothing like them)"
        if anomaly >= NOVEL:
            line += " · unlike anything the model has seen: worth a look and a label"
    return line


def _evidence(incident: IncidentDetail) -> None:
    st.markdown("**Evidence** (line numbers in the log as received)")
    if not incident["evidence"]:
        st.caption("No evidence recorded.")
        return
    width = len(str(max(line["line"] for line in incident["evidence"])))
    st.code(
        "\n".join(f"{line['line']:>{width}}  {line['text']}" for line in incident["evidence"]),
        language=None,
    )


def _timeline(incident: IncidentDetail) -> None:
    st.markdown("**Timeline**")
    st.dataframe(
        [
            {"at": _when(entry["at"]), "stage": entry["stage"], "detail": entry["detail"]}
            for entry in incident["timeline"]
        ],
        hide_index=True,
        width="stretch",
    )


def _feedback_form(base_url: str, incident: IncidentDetail) -> None:
    """Confirm or correct the category, say whether the fix worked: what the models learn from."""
    number = incident["id"]
    st.markdown("**Your feedback** (the models retrain on it)")
    result = st.session_state.pop(f"feedback_result_{number}", None)
    if result is not None:
        ok, message = result
        (st.success if ok else st.error)(message)
    categories = _choices(base_url).get("category") or [incident["category"]]
    options = [NO_VERDICT, *categories]
    current = options.index(incident["category"]) if incident["category"] in options else 0
    with st.form(key=f"feedback_{number}"):
        left, right = st.columns(2)
        left.selectbox(
            "Category (keep to confirm, change to correct)",
            options,
            index=current,
            key=f"feedback_category_{number}",
        )
        right.radio(
            "Did the fix work?", list(OUTCOMES), horizontal=True, key=f"feedback_outcome_{number}"
        )
        st.text_input("Operator", key="feedback_operator", placeholder="who you are")
        st.text_input("Note", key=f"feedback_note_{number}")
        # Sent from the callback, before the page reruns: the timeline above then shows it.
        st.form_submit_button(
            "Send feedback",
            on_click=_send_feedback,
            args=(base_url, number),
            key=f"feedback_send_{number}",
        )


def _send_feedback(base_url: str, number: int) -> None:
    state = st.session_state
    category = state[f"feedback_category_{number}"]
    operator = state["feedback_operator"].strip()
    if not operator:
        state[f"feedback_result_{number}"] = (False, "Say who you are (Operator) first.")
        return
    try:
        stored = send_feedback(
            base_url,
            number,
            category=None if category == NO_VERDICT else category,
            fix_outcome=OUTCOMES[state[f"feedback_outcome_{number}"]],
            operator=operator,
            note=state[f"feedback_note_{number}"].strip(),
        )
    except ApiUnavailable as error:
        state[f"feedback_result_{number}"] = (False, f"Feedback not recorded: {error}")
        return
    state[f"feedback_result_{number}"] = (True, f"Feedback #{stored['id']} recorded, thank you.")


def _when(iso: str) -> str:
    """An API timestamp in UTC, to the second (text: pyarrow would drop a datetime's zone)."""
    return f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _percent(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "—"


main()
