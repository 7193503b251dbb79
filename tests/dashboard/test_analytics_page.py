"""The Analytics page over real incidents, feedback and actions, through AppTest."""

from __future__ import annotations

from common import duration
from streamlit.testing.v1 import AppTest

from recoverops.remediation.model import ActionStatus
from recoverops.taxonomy import Category
from tests.dashboard.conftest import LiveApi, Opener

ANALYTICS = "views/analytics.py"
SUREFIRE = "plain-maven-surefire-failure"
STS_DENIED = "plain-aws-sts-accessdenied"


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_the_figures_from_incidents_feedback_and_actions(
    open_page: Opener, live_api: LiveApi
) -> None:
    automatic = live_api.seed(SUREFIRE, 1)
    approved = live_api.seed(STS_DENIED, 2)
    live_api.seed(SUREFIRE, 3)  # still open
    engine = live_api.engine()
    live_api.world.good.add("v2")
    action = live_api.plan(approved.id)
    engine.approve(action.id, operator="alice")
    ran = engine.run(action.id)
    assert ran is not None and ran.status is ActionStatus.SUCCEEDED
    live_api.resolve(automatic.id)  # the engine resolved #2 when its action was validated
    live_api.store.add_feedback(
        automatic.id, category=automatic.category, fix_outcome=None, operator="bob", note=""
    )
    live_api.store.add_feedback(
        approved.id, category=Category.BUILD_TEST, fix_outcome="worked", operator="bob", note=""
    )
    assert approved.category != Category.BUILD_TEST

    at = open_page(live_api.url, ANALYTICS)

    assert not at.exception and not at.error
    shown = metrics(at)
    resolved = [
        next(e.at for e in live_api.store.incident_timeline(seeded.id) if e.stage == "resolved")
        - live_api.store.get_incident(seeded.id).first_seen  # type: ignore[union-attr]
        for seeded in (automatic, approved)
    ]
    assert shown["MTTR (median)"] == duration((resolved[0] + resolved[1]) / 2)  # median of two
    # #1 had feedback and #2 an operator's approval: nothing resolved with no person.
    assert shown["Automation rate"] == "0%"
    assert shown["Fix success rate"] == "100%"
    assert shown["Category accuracy"] == "50%"  # one confirmed, one corrected
    (accuracy,) = [f.value for f in at.dataframe if "confirmed" in f.value]
    counted = zip(accuracy["category"], accuracy["confirmed"], accuracy["corrected"], strict=True)
    assert sorted(counted) == sorted(
        [(automatic.category.value, 1, 0), (approved.category.value, 0, 1)]
    )
    assert "2 of 3 incident(s) resolved." in [c.value for c in at.caption]
    assert any("the API does not expose them yet" in i.value for i in at.info)  # models


def test_no_incidents_yet(open_page: Opener, live_api: LiveApi) -> None:
    at = open_page(live_api.url, ANALYTICS)
    assert not at.exception and not at.metric
    assert [i.value for i in at.info] == [
        "No incidents yet: the Live page says how to get a first one."
    ]
