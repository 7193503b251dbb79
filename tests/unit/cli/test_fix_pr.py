"""`recoverops fix pr INCIDENT N`: the merge request's URL on stdout (GitLab's documented answer
from a recorded-response server, the branch pushed to a local bare repository), the same one
when asked again, and one line and exit 1 for what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recoverops.cli.main import main
from recoverops.incidents import Source
from recoverops.remediation.pull_requests import branch_for
from recoverops.settings import Settings
from recoverops.store import Store
from tests.connectors.fake_server import Reply
from tests.remediation.pr_world import (
    EXAMPLE_MERGE_REQUEST,
    EXAMPLE_MERGE_REQUEST_URL,
    JSON,
    bare_repository,
    fix_analysis,
    job_event,
    refs,
    store_incident,
)
from tests.remediation.recorded_server import recorded_server

MERGE_REQUESTS = "/api/v4/projects/380/merge_requests"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECOVEROPS_HOME", str(tmp_path / "home"))
    for name in ("DATABASE_URL", "GITLAB_URL", "GITLAB_TOKEN", "PUBLIC_URL"):
        monkeypatch.delenv(f"RECOVEROPS_{name}", raising=False)
    return tmp_path / "home"


def test_fix_pr_prints_the_request_and_answers_the_same_again(
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bare = bare_repository(tmp_path)
    store = Store.open(Settings(home=home, database_url=None))
    incident = store_incident(
        store, source=Source.GITLAB, body=job_event(bare), analysis=fix_analysis(tmp_path)
    )
    store.close()
    with recorded_server() as gitlab:
        gitlab.route("GET", MERGE_REQUESTS, Reply(200, b"[]", JSON))
        gitlab.route("POST", MERGE_REQUESTS, Reply(201, EXAMPLE_MERGE_REQUEST.read_bytes(), JSON))
        monkeypatch.setenv("RECOVEROPS_GITLAB_URL", gitlab.url)
        monkeypatch.setenv("RECOVEROPS_GITLAB_TOKEN", "glpat-cliTest0123456789ab")

        assert main(["fix", "pr", str(incident), "0", "--by", "alice"]) == 0
        out, err = capsys.readouterr()
        assert out == f"{EXAMPLE_MERGE_REQUEST_URL}\n"
        branch = branch_for(incident, 0, "compilation")
        assert f"merge request opened: branch {branch} into master of 380" in err
        assert f"refs/heads/{branch}" in refs(bare)

        assert main(["fix", "pr", str(incident), "0", "--json"]) == 0
        again = json.loads(capsys.readouterr().out)
        assert (again["url"], again["created"], again["branch"]) == (
            EXAMPLE_MERGE_REQUEST_URL,
            False,
            branch,
        )
        assert [r.method for r in gitlab.requests] == ["GET", "POST"]
    store = Store.open(Settings(home=home, database_url=None))
    actors = [e.actor for e in store.audit_entries(subject=f"incident:{incident}")]
    store.close()
    assert "cli:alice" in actors


def test_fix_pr_refusals_are_one_line_and_exit_1(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(Settings(home=home, database_url=None))
    incident = store_incident(
        store, source=Source.GITLAB, body=job_event(tmp_path), analysis=fix_analysis(tmp_path)
    )
    store.close()
    for argv, said in (
        (["fix", "pr", "999", "0"], "no incident 999"),
        (["fix", "pr", str(incident), "2"], f"incident {incident} has no fix 2 (1 proposed)"),
        (["fix", "pr", str(incident), "0"], "RECOVEROPS_GITLAB_TOKEN is not set"),
    ):
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and said in err


def test_fix_pr_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["fix", "pr", "1", "-1"])
    assert raised.value.code == 2
    assert "must be 0 or more" in capsys.readouterr().err
