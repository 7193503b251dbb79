"""Incident: one failure's evidence in its log, root cause, proposed fix and diff, the same
failure elsewhere, the actions taken, and the timeline of every stage; operators give feedback.

The incident comes from the page's `?id=` (the Failures page links here), or is chosen here.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from client import (
    Api,
    ApiUnavailable,
    Filters,
    Identity,
    IncidentDetail,
    NotFound,
    get_incident,
    list_actions,
    send_feedback,
)
from common import choices, load_incidents, percent, session, unavailable, when

NO_VERDICT = "(no verdict)"
OUTCOMES = {"not known": None, "worked": "worked", "failed": "failed"}
# A novelty at or above this is flagged. On the shared corpora, logs of projects the model never
# saw score a median 0.56; logs of other languages' builds 0.91, infrastructure errors 0.94.
NOVEL = 0.8


def render() -> None:
    current = session()
    st.title("Incident")
    number = _chosen(current.api)
    if number is None:
        return
    try:
        incident = get_incident(current.api, number)
    except NotFound:
        st.error(f"No incident #{number}.")
        return
    except ApiUnavailable as error:
        unavailable(current.api, error)
        return
    _detail(current.api, incident, current.identity)


def _chosen(api: Api) -> int | None:
    given = st.query_params.get("id")
    if given is not None and given.isdigit():
        return int(given)
    try:
        rows, _ = load_incidents(api, Filters(), pages=1)
    except ApiUnavailable as error:
        unavailable(api, error)
        return None
    if not rows:
        st.info("No incidents yet: the Live page says how to get a first one.")
        return None
    by_id = {row["id"]: row for row in rows}
    chosen: int | None = st.selectbox(
        "Incident",
        list(by_id),
        index=None,
        format_func=lambda n: f"#{n} · {by_id[n]['category']} · {by_id[n]['target']}",
        placeholder="Choose one of the newest incidents (or open one from Failures)",
        key="incident_pick",
    )
    return chosen


def _detail(api: Api, incident: IncidentDetail, identity: Identity | None) -> None:
    analysis = incident["analysis"] or {}
    st.subheader(f"#{incident['id']} · {incident['target']}")
    st.markdown(analysis.get("summary") or "_Not analyzed yet._")
    category, status, confidence, occurrences = st.columns(4)
    category.metric("Category", incident["category"])
    status.metric("Status", incident["status"])
    confidence.metric("Confidence", percent(analysis.get("confidence")))
    occurrences.metric("Occurrences", incident["occurrences"])
    st.caption(_provenance(analysis))
    _evidence(incident, analysis)
    _root_cause(analysis.get("root_cause"))
    _fix(analysis.get("fix"))
    _similar(analysis.get("context"))
    _actions(api, incident["id"])
    _timeline(incident)
    if identity is not None and identity.may_act:
        _feedback_form(api, incident, identity)
    else:
        st.caption("Operators and admins can give feedback here; sign in as one.")


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


def _evidence(incident: IncidentDetail, analysis: dict[str, Any]) -> None:
    st.markdown("**Evidence** (in log order; line numbers in the log as received)")
    step = analysis.get("failing_step")
    if isinstance(step, dict):
        command = f" · last command `{step['command']}`" if step.get("command") else ""
        code = f" · exit {step['exit_code']}" if step.get("exit_code") is not None else ""
        st.caption(
            f"Failing step **{step.get('name')}**, lines {step.get('start')}–{step.get('end')}"
            f"{code}{command}"
        )
    if not incident["evidence"]:
        st.caption("No evidence recorded.")
        return
    # Ranked by the detector; read in the order the log printed them.
    lines = sorted(incident["evidence"], key=lambda line: line["line"])
    width = len(str(lines[-1]["line"]))
    st.code("\n".join(f"{line['line']:>{width}}  {line['text']}" for line in lines), language=None)


def _root_cause(root_cause: object) -> None:
    st.markdown("**Root cause**")
    if not isinstance(root_cause, dict):
        st.caption("No root cause diagnosed for this incident.")
        return
    st.markdown(
        f"{root_cause.get('explanation', '')} ({percent(root_cause.get('confidence'))} sure)"
    )
    components = root_cause.get("components") or []
    if components:
        st.dataframe(
            [
                {
                    "kind": c.get("kind"),
                    "name": c.get("name"),
                    "file": c.get("file") or "",
                    "log line": c.get("log_line"),
                    "detail": c.get("detail") or "",
                }
                for c in components
            ],
            hide_index=True,
            width="stretch",
        )


def _fix(fix: object) -> None:
    st.markdown("**Proposed fix**")
    if not isinstance(fix, dict):
        st.caption("No fix proposed for this incident.")
        return
    st.markdown(
        f"{fix.get('kind')}: {fix.get('explanation', '')} ({percent(fix.get('confidence'))} sure)"
    )
    for step in fix.get("actions") or []:
        st.markdown(f"- {step}")
    if fix.get("patch"):
        st.code(fix["patch"], language="diff")
    elif fix.get("files"):
        st.caption("Files: " + ", ".join(fix["files"]) + " (no diff: no checkout was given)")


def _similar(context: object) -> None:
    st.markdown("**The same failure elsewhere**")
    others = context.get("same_failure_elsewhere") if isinstance(context, dict) else None
    if not others:
        st.caption("Not seen on other targets (or not compared yet).")
        return
    st.dataframe(
        [
            {
                "incident": o.get("incident_id"),
                "target": o.get("target"),
                "status": o.get("status"),
                "occurrences": o.get("occurrences"),
                "last seen": when(o.get("last_seen")),
            }
            for o in others
        ],
        hide_index=True,
        width="stretch",
    )


def _actions(api: Api, number: int) -> None:
    st.markdown("**Remediation actions**")
    try:
        actions = list_actions(api, incident_id=number)
    except ApiUnavailable as error:
        st.caption(f"Actions could not be read: {error}")
        return
    if not actions:
        st.caption("None planned for this incident.")
        return
    st.dataframe(
        [
            {"id": a["id"], "kind": a["kind"], "target": a["target"], "status": a["status"]}
            for a in actions
        ],
        hide_index=True,
        width="stretch",
    )
    st.page_link("views/fixes.py", label="Approve, reject and see their audit trail on Fixes")


def _timeline(incident: IncidentDetail) -> None:
    st.markdown("**Timeline**")
    st.dataframe(
        [
            {"at": when(entry["at"]), "stage": entry["stage"], "detail": entry["detail"]}
            for entry in incident["timeline"]
        ],
        hide_index=True,
        width="stretch",
    )


def _feedback_form(api: Api, incident: IncidentDetail, identity: Identity) -> None:
    """Confirm or correct the category, say whether the fix worked: what the models learn from."""
    number = incident["id"]
    st.markdown(f"**Your feedback** (the models retrain on it; recorded as {identity.subject})")
    result = st.session_state.pop(f"feedback_result_{number}", None)
    if result is not None:
        ok, message = result
        (st.success if ok else st.error)(message)
    categories = choices(api).get("category") or [incident["category"]]
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
        st.text_input("Note", key=f"feedback_note_{number}")
        # Sent from the callback, before the page reruns: the timeline above then shows it.
        st.form_submit_button(
            "Send feedback",
            on_click=_send_feedback,
            args=(api, number, identity.subject),
            key=f"feedback_send_{number}",
        )


def _send_feedback(api: Api, number: int, subject: str) -> None:
    state = st.session_state
    category = state[f"feedback_category_{number}"]
    try:
        stored = send_feedback(
            api,
            number,
            category=None if category == NO_VERDICT else category,
            fix_outcome=OUTCOMES[state[f"feedback_outcome_{number}"]],
            operator=subject,
            note=state[f"feedback_note_{number}"].strip(),
        )
    except ApiUnavailable as error:
        state[f"feedback_result_{number}"] = (False, f"Feedback not recorded: {error}")
        return
    state[f"feedback_result_{number}"] = (True, f"Feedback #{stored['id']} recorded, thank you.")


render()
