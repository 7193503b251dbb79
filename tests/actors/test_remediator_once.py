"""The remediator plans an occurrence's actions once, by their unique action keys, however
many remediators are asked about it at once: real PostgreSQL, two remediators (each with its
own store and engine, as two Ray actors have) planning the same event concurrently. No Ray."""

from __future__ import annotations

import threading
import uuid

from recoverops.actors.remediator import VERB, Remediator, subject_of
from recoverops.incidents import Source
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.actors.conftest import failure_body, store_failure

DEADLINE_SECONDS = 60.0


def test_two_remediators_planning_the_same_event_at_once_plan_it_once(
    postgresql_settings: Settings,
) -> None:
    store = Store.open(postgresql_settings)
    event_id = store_failure(store, failure_body())
    incident = store.upsert_incident(
        f"fp-{uuid.uuid4().hex}",
        target="octo-org/octo-repo:CI/test",
        category=Category.DEPLOY_NETWORK,  # transient: the planner asks for a re-run
        source=Source.GITHUB,
        event_id=event_id,
    ).incident
    remediators = [Remediator(postgresql_settings, system="github", loop=False) for _ in range(2)]
    start = threading.Barrier(len(remediators))
    answers: list[int | None] = []
    errors: list[BaseException] = []

    def plan(remediator: Remediator) -> None:
        try:
            start.wait(DEADLINE_SECONDS)
            answers.append(remediator.plan(incident.id, event_id=event_id))
        except BaseException as error:  # reported by the test, not lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=plan, args=(r,)) for r in remediators]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(DEADLINE_SECONDS)
        assert not errors, errors
        again = remediators[0].plan(incident.id, event_id=event_id)  # a redelivery, later
        actions = remediators[0]._engine.actions.find(incident_id=incident.id)
    finally:
        for remediator in remediators:
            remediator.close()

    (action,) = actions
    assert action.kind == "github.rerun_failed_jobs"
    planned = store.audit_entries(subject=subject_of(incident.id), verb=VERB, limit=10)
    (entry,) = planned  # one record of the plan, by the remediator that created the action
    assert sorted(answers, key=lambda a: a is None) == [entry.id, None]
    assert again is None
    assert [a["id"] for a in entry.detail["actions"]] == [action.id]
    assert len(store.audit_entries(subject=f"action:{action.id}", verb="action.planned")) == 1
    store.close()
