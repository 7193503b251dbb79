"""How a correlated incident's analysis is composed: the deploy first in the root cause, the
diagnosis kept after it, the failure's evidence before the deploy's, and the same result however
often it is recomposed (each later occurrence recomposes it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recoverops.correlation.link import correlated
from recoverops.store import StoredDeploy

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def deploy(deploy_id: int, *, at: datetime, name: str = "Deploy / helm") -> StoredDeploy:
    return StoredDeploy(
        id=deploy_id,
        source="github",
        key=f"acme/shop:run:{deploy_id}",
        event_id=None,
        repository="acme/shop",
        name=name,
        environment="production",
        status="success",
        why="",
        hints=("acme/shop", "shop"),
        at=at,
        incident_id=None,
    )


DIAGNOSED = {
    "summary": "The container crashed",
    "root_cause": {
        "components": [{"kind": "resource", "name": "deployment/shop"}],
        "explanation": "Container shop exits 1.",
        "confidence": 0.9,
    },
}
EVIDENCE = [{"line": 3, "text": "Reason: CrashLoopBackOff"}]


def test_the_latest_deploy_leads_and_the_diagnosis_follows() -> None:
    older, newer = deploy(1, at=T0), deploy(2, at=T0 + timedelta(minutes=5), name="Deploy / b")
    failed_at = T0 + timedelta(minutes=7)
    analysis, evidence = correlated(
        DIAGNOSED, EVIDENCE, [(older, "image"), (newer, "name")], failed_at=failed_at
    )
    cause = analysis["root_cause"]
    assert [c["kind"] for c in cause["components"]] == ["deploy", "deploy", "resource"]
    assert cause["deploy"]["id"] == 2
    assert cause["explanation"].startswith("Likely caused by github deploy 'Deploy / b'")
    assert "2 min before" in cause["explanation"]
    assert cause["explanation"].endswith("Container shop exits 1.")
    assert cause["confidence"] == 0.9  # the diagnosis was surer than the order alone
    assert analysis["summary"].startswith("The container crashed; likely caused by")
    assert evidence[0] == EVIDENCE[0]
    assert [e.get("deploy_id") for e in evidence[1:]] == [2, 1]


def test_recomposing_gives_the_same_analysis() -> None:
    links = [(deploy(1, at=T0), "image")]
    once = correlated(DIAGNOSED, EVIDENCE, links, failed_at=T0 + timedelta(minutes=3))
    twice = correlated(once[0], once[1], links, failed_at=T0 + timedelta(minutes=3))
    assert twice == once
    assert once[0]["correlation"]["diagnosed"]["root_cause"] == DIAGNOSED["root_cause"]


def test_an_analysis_without_a_diagnosis_gets_the_deploy_alone() -> None:
    analysis, _ = correlated(None, [], [(deploy(1, at=T0), "name")], failed_at=T0)
    assert analysis["root_cause"]["confidence"] == 0.7
    assert analysis["summary"] == analysis["root_cause"]["explanation"]
