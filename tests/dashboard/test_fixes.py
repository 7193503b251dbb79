"""The Fixes page: actions by lane, approving and rejecting as the signed-in operator, and each
action's audit trail, through AppTest against the real API and a real remediation engine."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from recoverops.remediation.model import ActionStatus
from tests.dashboard.conftest import LiveApi, Opener, table

FIXES = "views/fixes.py"
SUREFIRE = "plain-maven-surefire-failure"


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_actions_are_counted_by_lane(open_page: Opener, live_api: LiveApi) -> None:
    incident = live_api.seed(SUREFIRE).id
    waiting = live_api.plan(incident, key="waits")
    rejected = live_api.plan(incident, key="rejected")
    validated = live_api.plan(incident, key="validated")
    engine = live_api.engine()
    engine.reject(rejected.id, operator="bob", note="not now")
    engine.approve(validated.id, operator="alice")
    live_api.world.good.add("v2")
    ran = engine.run(validated.id)
    assert ran is not None and ran.status is ActionStatus.SUCCEEDED

    at = open_page(live_api.url, FIXES)

    assert not at.exception
    lanes = metrics(at)
    assert (lanes["awaiting approval"], lanes["validated"], lanes["stopped"]) == ("1", "1", "1")
    assert (lanes["planned"], lanes["applied"], lanes["rolled back"]) == ("0", "0", "0")
    assert table(at, 0, "id") == [validated.id, rejected.id, waiting.id]  # newest first
    assert table(at, 0, "lane") == ["validated", "stopped", "awaiting approval"]

    at.selectbox(key="lane").select("stopped").run()
    assert table(at, 0, "id") == [rejected.id]


def test_an_operator_approves_by_clicking_and_the_trail_says_who(
    open_page: Opener, signed_in_api: LiveApi
) -> None:
    action = signed_in_api.plan(signed_in_api.seed(SUREFIRE).id)
    at = open_page(signed_in_api.url, FIXES, token="tok-operator")

    at.text_input(key=f"note_{action.id}").input("looks right")
    at.button(key=f"approve_{action.id}").click().run()

    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [f"Action #{action.id} is approved."]
    stored = signed_in_api.engine().actions.get(action.id)
    assert stored is not None
    assert (stored.status, stored.decided_by) == (ActionStatus.APPROVED, "operator: olga")
    assert metrics(at)["awaiting approval"] == "0"

    at.selectbox(key="action").select(action.id).run()

    (trail,) = [frame.value for frame in at.dataframe if "verb" in frame.value]
    assert list(trail["actor"])[-1] == "olga"
    assert list(trail["verb"])[-1] == "action.approved"
    assert "looks right" in list(trail["detail"])[-1]


def test_a_rejection_and_a_refused_answer(open_page: Opener, live_api: LiveApi) -> None:
    action = live_api.plan(None)
    at = open_page(live_api.url, FIXES)

    # Someone else answers first: the click is refused, with the API's reason.
    live_api.engine().reject(action.id, operator="bob")
    at.button(key=f"approve_{action.id}").click().run()

    assert not at.exception
    assert [e.value for e in at.error] == [
        f"Action #{action.id} not answered: POST /actions/{action.id}/approve answered 409: "
        f"action {action.id} is rejected, not awaiting approval"
    ]
    assert metrics(at)["stopped"] == "1"

    other = live_api.plan(None, key="other")
    at.run()
    at.button(key=f"reject_{other.id}").click().run()
    assert [s.value for s in at.success] == [f"Action #{other.id} is rejected."]


def test_a_viewer_sees_the_actions_but_no_buttons(
    open_page: Opener, signed_in_api: LiveApi
) -> None:
    action = signed_in_api.plan(None)

    at = open_page(signed_in_api.url, FIXES, token="tok-viewer")

    assert not at.exception
    assert table(at, 0, "id") == [action.id]
    assert not [b for b in at.button if b.key in (f"approve_{action.id}", f"reject_{action.id}")]
    assert "Operators and admins approve or reject; sign in as one." in [
        c.value for c in at.caption
    ]


def test_no_actions_says_where_they_come_from(open_page: Opener, live_api: LiveApi) -> None:
    at = open_page(live_api.url, FIXES)
    assert not at.exception and not at.dataframe
    (message,) = [info.value for info in at.info]
    assert message.startswith("No remediation actions yet.") and "policy" in message
