"""Fixes: remediation actions by lane (planned, awaiting approval, applied, validated, rolled
back, stopped), approve and reject for operators, and each action's audit trail."""

from __future__ import annotations

from typing import Any

import streamlit as st
from analytics import LANES, actions_by_lane, lane
from client import (
    Action,
    Api,
    ApiUnavailable,
    Identity,
    answer_action,
    get_action,
    list_actions,
)
from common import REFRESH_EVERY, as_of, session, unavailable, when

LISTED = 500
RESULT_KEY = "action_result"
NO_ACTIONS = """No remediation actions yet. The remediator plans one when a policy rule matches
an analyzed incident (the policy file: see docs/deployment.md); an action the policy sends for
approval waits here for an operator."""


def render() -> None:
    current = session()
    st.title("Fixes")
    live = st.toggle(f"Refresh every {REFRESH_EVERY.seconds} s", value=True, key="live")
    refresh = st.fragment(_fixes, run_every=REFRESH_EVERY if live else None)
    refresh(current.api, current.identity)


def _fixes(api: Api, identity: Identity | None) -> None:
    result = st.session_state.pop(RESULT_KEY, None)
    if result is not None:
        ok, message = result
        (st.success if ok else st.error)(message)
    try:
        actions = list_actions(api, limit=LISTED)
    except ApiUnavailable as error:
        unavailable(api, error)
        return
    st.caption(f"{len(actions)} action(s) · {as_of()}")
    if not actions:
        st.info(NO_ACTIONS, icon=":material/build:")
        return
    lanes = actions_by_lane(actions)
    for column, (name, members) in zip(st.columns(len(lanes)), lanes.items(), strict=True):
        column.metric(name, len(members))

    waiting = lanes.get("awaiting approval", [])
    st.subheader("Awaiting approval")
    if not waiting:
        st.caption("Nothing waits for an operator.")
    for action in waiting:
        _awaiting(api, action, identity)

    st.subheader("All actions")
    shown = st.selectbox("Lane", ["all", *LANES], key="lane")
    rows = [a for a in actions if shown == "all" or lane(a["status"]) == shown]
    st.dataframe([_row(a) for a in rows], hide_index=True, width="stretch")
    _trail(api, actions)


def _awaiting(api: Api, action: Action, identity: Identity | None) -> None:
    number = action["id"]
    with st.container(border=True):
        st.markdown(
            f"**#{number} · {action['kind']}** on `{action['target']}` "
            f"({action['environment']}, {action['risk']} risk)"
            + (f" · incident #{action['incident_id']}" if action["incident_id"] else "")
        )
        deadline = when(action["approval_deadline"])
        st.caption(f"{action['reason'] or 'no reason given'} · answer by {deadline}")
        st.json(action["params"], expanded=False)
        if identity is None or not identity.may_act:
            st.caption("Operators and admins approve or reject; sign in as one.")
            return
        st.text_input("Note", key=f"note_{number}")
        approve, reject = st.columns(2)
        approve.button(
            "Approve",
            key=f"approve_{number}",
            type="primary",
            on_click=_answer,
            args=(api, number, identity.subject, True),
        )
        reject.button(
            "Reject",
            key=f"reject_{number}",
            on_click=_answer,
            args=(api, number, identity.subject, False),
        )


def _answer(api: Api, number: int, subject: str, approve: bool) -> None:
    note = str(st.session_state.get(f"note_{number}", "")).strip()
    try:
        answered = answer_action(api, number, approve=approve, operator=subject, note=note)
    except ApiUnavailable as error:
        st.session_state[RESULT_KEY] = (False, f"Action #{number} not answered: {error}")
        return
    st.session_state[RESULT_KEY] = (True, f"Action #{number} is {answered['status']}.")


def _row(action: Action) -> dict[str, Any]:
    return {
        "id": action["id"],
        "lane": lane(action["status"]),
        "status": action["status"],
        "kind": action["kind"],
        "system": action["system"],
        "target": action["target"],
        "incident": action["incident_id"],
        "decided by": action["decided_by"] or "",
        "updated": when(action["updated_at"]),
    }


def _trail(api: Api, actions: list[Action]) -> None:
    by_id = {a["id"]: a for a in actions}
    chosen = st.selectbox(
        "Audit trail of",
        list(by_id),
        index=None,
        format_func=lambda n: f"#{n} · {by_id[n]['kind']} · {by_id[n]['status']}",
        placeholder="Choose an action to see who did what, and when",
        key="action",
    )
    if chosen is None:
        return
    try:
        detail = get_action(api, chosen)
    except ApiUnavailable as error:
        st.error(f"Action #{chosen} could not be read: {error}")
        return
    st.dataframe(
        [
            {
                "at": when(e["at"]),
                "actor": e["actor"],
                "verb": e["verb"],
                "detail": str(e["detail"]),
            }
            for e in detail["trail"]
        ],
        hide_index=True,
        width="stretch",
    )
    before, after = st.columns(2)
    before.markdown("**Snapshot before**")
    before.json(detail["snapshot"] or {}, expanded=False)
    after.markdown("**Result**")
    after.json(detail["result"], expanded=False)


render()
