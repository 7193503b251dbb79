"""`recoverops replay` against the real app: recorded deliveries go in as they were sent."""

from __future__ import annotations

import json
import os
import subprocess
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from recoverops.actors import process_event
from recoverops.actors.jobs import job_identity
from recoverops.cli.main import main
from recoverops.cli.replay import NotADelivery, build_request, replay, sender_of
from recoverops.connectors import fetch_log, log_sources
from recoverops.detector import analyze_text
from recoverops.serve import create_app
from recoverops.settings import Settings
from tests.serve.harness import WEBHOOKS, Backend, unused_port

NO_SECRETS = {
    "github_webhook_secret": None,
    "gitlab_webhook_token": None,
    "jenkins_webhook_token": None,
}
FAILED_JOB = WEBHOOKS / "github/workflow_job/completed.failure.with-organization.payload.json"
PING = next((WEBHOOKS / "github/ping").glob("*.json"))
GITLAB_JOB = WEBHOOKS / "gitlab/go-gitlab-testdata-job.json"
JENKINS = WEBHOOKS / "jenkins/notification-plugin-help-example.json"


def outcomes(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize(
    ("path", "sender"), [(FAILED_JOB, "github"), (GITLAB_JOB, "gitlab"), (JENKINS, "jenkins")]
)
def test_the_sender_is_recognised_from_the_payload(path: Path, sender: str) -> None:
    assert sender_of(json.loads(path.read_bytes())) == sender


def test_signed_deliveries_are_accepted_and_a_replayed_file_is_one_event(
    sqlite_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(FAILED_JOB), str(PING), str(GITLAB_JOB), str(JENKINS), str(FAILED_JOB)]
    with sqlite_backend.client() as client:
        code = replay(
            files, client=client, settings=sqlite_backend.settings, source=None, fresh=False
        )
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    results = outcomes(out)
    assert [r["status"] for r in results] == [202, 200, 202, 202, 202]
    first, last = results[0]["response"], results[-1]["response"]
    assert isinstance(first, dict) and isinstance(last, dict)
    assert first["event_id"] == last["event_id"] and last["redelivery"] is True
    assert sqlite_backend.waiting() == 1  # the one failed job; replaying it queued nothing more


def test_without_the_secret_github_refuses_and_replay_says_so(
    sqlite_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    unsigned = sqlite_backend.settings.model_copy(update={"github_webhook_secret": None})
    with sqlite_backend.client() as client:
        code = replay([str(FAILED_JOB)], client=client, settings=unsigned, source=None, fresh=True)
    out, err = capsys.readouterr()
    assert code == 1
    assert outcomes(out)[0]["status"] == 401
    assert "not accepted (401)" in err


def test_a_file_that_is_no_delivery_is_named_and_the_others_still_go(
    sqlite_backend: Backend, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    junk = tmp_path / "notes.json"
    junk.write_text('{"hello": "world"}', "utf-8")
    with sqlite_backend.client() as client:
        code = replay(
            [str(junk), str(tmp_path / "absent.json"), str(JENKINS)],
            client=client,
            settings=sqlite_backend.settings,
            source=None,
            fresh=False,
        )
    out, _ = capsys.readouterr()
    results = outcomes(out)
    assert code == 1
    assert "not a GitHub, GitLab or Jenkins webhook payload" in str(results[0]["error"])
    assert "cannot be read" in str(results[1]["error"])
    assert results[2]["status"] == 202


def test_a_gitlab_hook_replay_does_not_send_is_refused_before_posting() -> None:
    with pytest.raises(NotADelivery, match="replay sends job and pipeline hooks"):
        build_request(b'{"object_kind": "push"}', settings=Settings(), source="gitlab", fresh=False)


def test_an_unreachable_system_is_a_clear_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with unused_port() as port:
        code = main(["replay", "--url", f"http://127.0.0.1:{port}", str(JENKINS)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "cannot reach http://127.0.0.1" in str(outcomes(out)[0]["error"])
    assert "Traceback" not in err


ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE_NAMES = ("github-actions", "gitlab-ci", "jenkins")


def test_each_examples_log_is_placed_where_the_detector_fetches_its_job(
    sqlite_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = sqlite_backend.settings
    with sqlite_backend.client() as client:
        code = replay(
            [str(EXAMPLES / name / "delivery.json") for name in EXAMPLE_NAMES],
            logs=[str(EXAMPLES / name / "job.log") for name in EXAMPLE_NAMES],
            client=client,
            settings=settings,
            source=None,
            fresh=False,
        )
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    sources = log_sources(settings)
    for name, result in zip(EXAMPLE_NAMES, outcomes(out), strict=True):
        assert result["status"] == 202
        response = result["response"]
        assert isinstance(response, dict) and response["failure"] is True
        event = sqlite_backend.store.get_event(int(response["event_id"]))
        assert event is not None
        job = job_identity(event).ref  # what the detector asks for, from the stored event
        assert job is not None
        fetched = fetch_log(job, sources=sources)
        assert fetched.status == "ok"
        assert fetched.text == (EXAMPLES / name / "job.log").read_text("utf-8")
        assert Path(str(result["log"])).is_relative_to(settings.home)


def test_a_log_for_a_delivery_that_reports_no_failure_is_refused_before_posting(
    sqlite_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    log = EXAMPLES / "jenkins" / "job.log"
    missing = log.with_name("absent.log")
    with sqlite_backend.client() as client:
        code = replay(
            [str(GITLAB_JOB), str(FAILED_JOB)],  # a successful GitLab job, then a failed one
            logs=[str(log), str(missing)],
            client=client,
            settings=sqlite_backend.settings,
            source=None,
            fresh=False,
        )
    out, _ = capsys.readouterr()
    results = outcomes(out)
    assert code == 1
    assert "reports no failed job" in str(results[0]["error"])
    assert str(results[1]["error"]).startswith(f"its log: {missing}")
    assert "status" not in results[0] and "status" not in results[1]
    assert sqlite_backend.waiting() == 0  # nothing was posted
    assert not (sqlite_backend.settings.home / "placed-logs").exists()


def test_log_goes_once_with_each_delivery(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay", str(FAILED_JOB), str(JENKINS), "--log", "one.log"])
    assert exited.value.code == 2
    assert "--log goes once with each FILE: 2 FILE(s), 1 --log" in capsys.readouterr().err


def test_the_examples_become_incidents_through_the_detectors_own_steps(
    sqlite_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    # The quick start without Ray: what each detector actor does for a queued event, with the
    # log fetcher it builds (actors/detector.py), on the events `make example` posts to what
    # `make run` starts: no webhook secret, RECOVEROPS_ENV=development.
    settings = sqlite_backend.settings.model_copy(update={**NO_SECRETS, "env": "development"})
    app = create_app(settings, store=sqlite_backend.store, queue=sqlite_backend.queue)
    with TestClient(app) as client:
        code = replay(
            [str(EXAMPLES / name / "delivery.json") for name in EXAMPLE_NAMES],
            logs=[str(EXAMPLES / name / "job.log") for name in EXAMPLE_NAMES],
            client=client,
            settings=settings,
            source=None,
            fresh=False,
        )
    assert code == 0
    fetch = partial(fetch_log, sources=log_sources(settings))
    found = {}
    for result in outcomes(capsys.readouterr().out):
        response = result["response"]
        assert isinstance(response, dict)
        outcome = process_event(
            sqlite_backend.store, int(response["event_id"]), fetch=fetch, analyze=analyze_text
        )
        assert outcome.incident_id is not None and outcome.logs_available
        incident = sqlite_backend.store.get_incident(outcome.incident_id)
        assert incident is not None
        found[incident.source.value] = incident
    assert {source: i.category.value for source, i in found.items()} == {
        "github": "infra.container",
        "gitlab": "deploy.network",
        "jenkins": "build.test",
    }
    assert any("manifest unknown" in e["text"] for e in found["github"].evidence)
    assert found["gitlab"].target.startswith("gitlab:gitlab-org/gitlab-test:")


def test_make_run_says_it_runs_in_development() -> None:
    # The quick start's unsigned deliveries are taken because `make run` sets development mode.
    # Under `make test` the parent make's variables would make this one a sub-make, which
    # prints "Entering directory" lines around the recipe.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    recipe = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.splitlines()
    said, ran = recipe[0], recipe[-1]
    assert said.startswith("echo") and "RECOVEROPS_ENV=development" in said
    assert ran.startswith("RECOVEROPS_ENV=development ") and ran.endswith("recoverops up")


def test_without_development_the_examples_are_refused_with_the_reason(
    sqlite_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = sqlite_backend.settings.model_copy(update=NO_SECRETS)
    app = create_app(settings, store=sqlite_backend.store, queue=sqlite_backend.queue)
    with TestClient(app) as client:
        code = replay(
            [str(EXAMPLES / name / "delivery.json") for name in EXAMPLE_NAMES],
            client=client,
            settings=settings,
            source=None,
            fresh=False,
        )
    assert code == 1
    results = outcomes(capsys.readouterr().out)
    assert [r["status"] for r in results] == [403, 403, 403]
    responses = [r["response"] for r in results]
    assert all(isinstance(r, dict) and r["reason"] == "no_secret_configured" for r in responses)
    assert sqlite_backend.waiting() == 0
