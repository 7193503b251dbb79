"""POST /webhooks/jenkins with the Notification plugin's JSON."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoverops.incidents import Source
from tests.serve.harness import JENKINS_TOKEN, Backend, Response, payload

STARTED = "jenkins/notification-plugin-help-example.json"
FINALIZED = "jenkins/matrix-neb-received-example.json"


def post(
    client: TestClient, body: dict[str, Any], *, token: str | None = JENKINS_TOKEN
) -> Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Jenkins-Token"] = token
    return client.post("/webhooks/jenkins", json=body, headers=headers)


def build(phase: str, status: str | None, *, number: int = 8) -> dict[str, Any]:
    """The recorded FINALIZED notification, at another phase or with another status."""
    notification = copy.deepcopy(payload(FINALIZED))
    notification["build"].update(phase=phase, number=number)
    if status is None:
        del notification["build"]["status"]
    else:
        notification["build"]["status"] = status
    return notification


def test_the_recorded_notifications_are_stored_and_none_is_a_failure(
    client: TestClient, backend: Backend
) -> None:
    started = post(client, payload(STARTED))
    finalized = post(client, payload(FINALIZED))

    assert started.status_code == finalized.status_code == 202
    assert started.json()["failure"] is finalized.json()["failure"] is False
    stored = backend.store.get_event(finalized.json()["event_id"])
    assert stored is not None
    assert (stored.kind, stored.delivery_id) == ("build.finalized", "Synapse#8:FINALIZED")
    assert backend.queue.depth().total == 0


@pytest.mark.parametrize(
    ("phase", "status", "failure"),
    [
        ("FINALIZED", "FAILURE", True),
        ("FINALIZED", "UNSTABLE", True),
        ("FINALIZED", "ABORTED", False),
        ("COMPLETED", "FAILURE", False),  # the same build's FINALIZED follows
        ("STARTED", None, False),
    ],
)
def test_only_a_finalized_failed_build_is_a_failure(
    client: TestClient, backend: Backend, phase: str, status: str | None, failure: bool
) -> None:
    response = post(client, build(phase, status))

    assert response.status_code == 202 and response.json()["failure"] is failure
    assert backend.waiting() == int(failure)


def test_each_phase_of_a_build_is_one_event_and_a_repeat_is_a_redelivery(
    client: TestClient, backend: Backend
) -> None:
    phases = [post(client, build(phase, "FAILURE")) for phase in ("COMPLETED", "FINALIZED")]
    again = post(client, build("FINALIZED", "FAILURE"))

    assert phases[0].json()["event_id"] != phases[1].json()["event_id"]
    assert again.json() == {**phases[1].json(), "redelivery": True}
    assert backend.waiting() == 1


def test_a_job_in_a_folder_is_named_by_its_path(client: TestClient, backend: Backend) -> None:
    notification = build("FINALIZED", "FAILURE", number=7)
    notification.update(name="app", url="job/team/job/app/")

    response = post(client, notification)

    stored = backend.store.get_event(response.json()["event_id"])
    assert stored is not None and stored.delivery_id == "team/app#7:FINALIZED"
    assert stored.payload["target"] == "team/app"


def test_the_token_in_a_query_parameter_is_refused(
    sqlite_client: TestClient, sqlite_backend: Backend
) -> None:
    # A URL's query ends up in access logs: the token is only ever taken from the header.
    response = sqlite_client.post(
        "/webhooks/jenkins", params={"token": JENKINS_TOKEN}, json=build("FINALIZED", "FAILURE")
    )
    assert response.status_code == 401
    assert response.json() == {
        "detail": "missing X-Jenkins-Token header",
        "reason": "missing_credentials",
    }
    assert sqlite_backend.store.find_event(Source.JENKINS, "Synapse#8:FINALIZED") is None


@pytest.mark.parametrize(
    ("token", "reason"), [(None, "missing_credentials"), ("wrong", "bad_credentials")]
)
def test_a_missing_or_wrong_token_is_refused(
    sqlite_client: TestClient, sqlite_backend: Backend, token: str | None, reason: str
) -> None:
    response = post(sqlite_client, build("FINALIZED", "FAILURE"), token=token)

    assert response.status_code == 401 and response.json()["reason"] == reason
    assert sqlite_backend.store.find_event(Source.JENKINS, "Synapse#8:FINALIZED") is None


def test_a_wrong_query_token_does_not_pass_with_a_header_missing(
    sqlite_client: TestClient,
) -> None:
    response = sqlite_client.post(
        "/webhooks/jenkins", params={"token": "wrong"}, json=build("FINALIZED", "FAILURE")
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda n: n.pop("name"), "missing field name"),
        (lambda n: n["build"].pop("number"), "missing field build.number"),
        (lambda n: n["build"].update(number="8"), "field build.number must be an integer"),
        (lambda n: n["build"].update(number=True), "field build.number must be an integer"),
        (lambda n: n["build"].pop("phase"), "missing field build.phase"),
        (lambda n: n.update(build=[]), "missing field build.number"),
    ],
    ids=["no-name", "no-number", "number-string", "number-bool", "no-phase", "build-list"],
)
def test_a_malformed_notification_is_refused_with_the_reason(
    sqlite_client: TestClient, change: Any, detail: str
) -> None:
    notification = build("FINALIZED", "FAILURE")
    change(notification)

    response = post(sqlite_client, notification)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail), response.json()


def test_the_plugins_xml_format_is_refused_as_a_media_type(sqlite_client: TestClient) -> None:
    response = sqlite_client.post(
        "/webhooks/jenkins",
        content=b"<jobState><name>JobName</name></jobState>",
        headers={"Content-Type": "application/xml;charset=UTF-8", "X-Jenkins-Token": JENKINS_TOKEN},
    )
    assert response.status_code == 415
    assert response.json()["reason"] == "unsupported_media_type"
