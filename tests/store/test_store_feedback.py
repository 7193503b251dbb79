"""Operator feedback: stored, on the timeline, counted for retraining, and turned into labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recoverops.detector import analyze_text
from recoverops.errors import NotFoundError
from recoverops.incidents import Source, fingerprint
from recoverops.models.features import FEATURE_COLUMNS, feature_row
from recoverops.store import FeedbackRecord, LabelledIncident, Store
from recoverops.taxonomy import Category
from tests.serve.harness import CASES

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SUREFIRE = CASES / "plain-maven-surefire-failure" / "log.txt"


def incident(store: Store, name: str, *, with_features: bool = True, minute: int = 0) -> int:
    """An incident from the real Surefire log, with its feature row unless told otherwise."""
    analysis = analyze_text(SUREFIRE.read_text(encoding="utf-8", errors="replace"))
    target = f"github:octo/{name}:ci/test"
    upsert = store.upsert_incident(
        fingerprint(target=target, template_ids=analysis.templates),
        target=target,
        category=analysis.category,
        source=Source.GITHUB,
        seen_at=T0 + timedelta(minutes=minute),
        analysis=analysis,
        features=feature_row(analysis) if with_features else None,
    )
    return upsert.incident.id


def test_feedback_is_stored_and_written_to_the_timeline(store: Store) -> None:
    incident_id = incident(store, "app")

    confirmed = store.add_feedback(
        incident_id, category=Category.BUILD_TEST, fix_outcome=None, operator=" alice ", note="yes"
    )
    corrected = store.add_feedback(
        incident_id, category=Category.BUILD_LINT, fix_outcome="failed", operator="bob"
    )

    assert isinstance(confirmed, FeedbackRecord)
    assert (confirmed.incident_id, confirmed.category, confirmed.fix_outcome) == (
        incident_id,
        Category.BUILD_TEST,
        None,
    )
    assert (confirmed.operator, confirmed.note) == ("alice", "yes")
    assert confirmed.created_at.tzinfo is not None
    assert corrected.id > confirmed.id
    feedback = [e for e in store.incident_timeline(incident_id) if e.stage == "feedback"]
    assert [e.detail for e in feedback] == [
        "alice confirmed build.test: yes",
        "bob corrected build.test to build.lint, fix failed",
    ]
    [audited, _] = store.audit_entries(subject=f"incident:{incident_id}")
    assert (audited.actor, audited.verb) == ("bob", "incident.feedback")
    assert audited.detail == {
        "feedback_id": corrected.id,
        "category": "build.lint",
        "fix_outcome": "failed",
    }


def test_feedback_on_an_unknown_incident_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no incident 4242"):
        store.add_feedback(4242, category=Category.BUILD_TEST, fix_outcome=None, operator="a")
    assert store.feedback_watermark() == 0


@pytest.mark.parametrize(
    ("category", "outcome", "operator", "message"),
    [
        (None, "maybe", "alice", "fix_outcome must be one of worked, failed, not 'maybe'"),
        (None, None, "alice", "must give a category, a fix_outcome, or both"),
        (Category.BUILD_TEST, None, "   ", "operator must name who gives the feedback"),
        (Category.BUILD_TEST, None, "x" * 256, "operator must be at most 255 characters"),
    ],
)
def test_bad_feedback_is_refused_and_nothing_is_stored(
    store: Store, category: Category | None, outcome: str | None, operator: str, message: str
) -> None:
    incident_id = incident(store, "app")

    with pytest.raises(ValueError, match=message):
        store.add_feedback(incident_id, category=category, fix_outcome=outcome, operator=operator)

    assert store.feedback_watermark() == 0
    assert all(e.stage != "feedback" for e in store.incident_timeline(incident_id))


def test_the_watermark_counts_only_new_labelled_feedback(store: Store) -> None:
    first, second = incident(store, "one"), incident(store, "two", minute=1)
    assert store.feedback_watermark() == 0
    assert store.count_labelled_feedback_after(0) == 0

    store.add_feedback(first, category=Category.BUILD_TEST, fix_outcome=None, operator="a")
    mark = store.feedback_watermark()
    store.add_feedback(first, category=None, fix_outcome="worked", operator="a")  # no label
    store.add_feedback(second, category=Category.BUILD_LINT, fix_outcome=None, operator="a")

    assert mark > 0
    assert store.feedback_watermark() > mark
    assert store.count_labelled_feedback_after(0) == 2
    assert store.count_labelled_feedback_after(mark) == 1
    assert store.count_labelled_feedback_after(store.feedback_watermark()) == 0


def test_labelled_incidents_take_the_latest_label_and_outcome(store: Store) -> None:
    corrected = incident(store, "corrected")
    outcome_only = incident(store, "outcome-only", minute=1)
    no_features = incident(store, "bare", with_features=False, minute=2)
    incident(store, "unjudged", minute=3)

    store.add_feedback(corrected, category=Category.BUILD_TEST, fix_outcome="failed", operator="a")
    store.add_feedback(corrected, category=Category.BUILD_LINT, fix_outcome=None, operator="b")
    # Reporting an outcome later keeps the label it had.
    store.add_feedback(corrected, category=None, fix_outcome="worked", operator="c")
    store.add_feedback(outcome_only, category=None, fix_outcome="worked", operator="a")
    store.add_feedback(
        no_features, category=Category.DEPLOY_NETWORK, fix_outcome=None, operator="a"
    )

    labelled = store.labelled_incidents()

    assert [(item.incident_id, item.label, item.fix_outcome) for item in labelled] == [
        (corrected, Category.BUILD_LINT, "worked"),
        (no_features, Category.DEPLOY_NETWORK, None),
    ]
    first = labelled[0]
    assert isinstance(first, LabelledIncident)
    assert (first.target, first.source) == ("github:octo/corrected:ci/test", Source.GITHUB)
    assert first.features is not None and set(first.features) == set(FEATURE_COLUMNS)
    assert first.features["rule_category"] == "build.test" and first.features["chunk"]
    assert labelled[1].features is None


def test_a_recurrence_without_features_keeps_the_stored_ones(store: Store) -> None:
    incident_id = incident(store, "app")
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.features is not None

    again = incident(store, "app", with_features=False, minute=5)

    after = store.get_incident(again)
    assert again == incident_id
    assert after is not None and after.occurrences == 2
    assert after.features == stored.features
