"""A fix's merge request on GitLab with python-gitlab. No npm package ships GitLab's OpenAPI
description (and GitLab's documentation says it covers only a few endpoints), so the API is a
recorded-response server answering with the example response of GitLab's own merge request API
documentation (tests/fixtures/ci_api/gitlab); the branch is pushed to a local bare repository."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from recoverops.errors import FixNotApplicable, ForgeFailed, ForgeNotConfigured, NotFoundError
from recoverops.incidents import Source
from recoverops.remediation.pull_requests import open_pull_request
from recoverops.remediation.pull_requests.service import VERB
from recoverops.settings import Settings
from recoverops.store import Store
from tests.connectors.fake_server import Reply
from tests.remediation.git_http_server import git_http_server
from tests.remediation.pr_world import (
    EXAMPLE_MERGE_REQUEST,
    EXAMPLE_MERGE_REQUEST_URL,
    HELPER,
    JSON,
    PATCHED_IMPORTS,
    bare_repository,
    fix_analysis,
    job_event,
    refs,
    show,
    store_incident,
)
from tests.remediation.recorded_server import RecordedServer, recorded_server

TOKEN = "glpat-" + "mergeRequestTest0123"
# GitLab's answer to a second merge request from one source branch (its API's message).
ALREADY_EXISTS = (
    b'{"message": ["Another open merge request already exists for this source branch: !133"]}'
)
MERGE_REQUESTS = "/api/v4/projects/380/merge_requests"


@pytest.fixture
def gitlab() -> Iterator[RecordedServer]:
    with recorded_server() as server:
        yield server


def settings_for(tmp_path: Path, gitlab: RecordedServer) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=None,
        gitlab_url=gitlab.url,
        gitlab_token=SecretStr(TOKEN),
        public_url="https://recoverops.example.com",
    )


def test_a_fix_becomes_one_merge_request(tmp_path: Path, gitlab: RecordedServer) -> None:
    gitlab.route("GET", MERGE_REQUESTS, Reply(200, b"[]", JSON))
    gitlab.route("POST", MERGE_REQUESTS, Reply(201, EXAMPLE_MERGE_REQUEST.read_bytes(), JSON))
    bare = bare_repository(tmp_path)  # the job event's project says its default is master
    master = refs(bare)["refs/heads/master"]
    settings = settings_for(tmp_path, gitlab)
    store = Store.open(settings)
    analysis = fix_analysis(tmp_path)
    incident = store_incident(store, source=Source.GITLAB, body=job_event(bare), analysis=analysis)

    made = open_pull_request(store, settings, incident, 0, actor="operator:alice")

    branch = f"recoverops/incident-{incident}-compilation"
    assert (made.url, made.number, made.forge, made.project) == (
        EXAMPLE_MERGE_REQUEST_URL,
        133,
        "gitlab",
        "380",
    )
    assert [(r.method, r.path.split("?")[0]) for r in gitlab.requests] == [
        ("GET", MERGE_REQUESTS),
        ("POST", MERGE_REQUESTS),
    ]
    listing, create = gitlab.requests
    assert "source_branch=recoverops%2Fincident-" in listing.path and "state=opened" in listing.path
    assert create.headers["private-token"] == TOKEN
    sent = json.loads(create.body)
    assert (sent["source_branch"], sent["target_branch"]) == (branch, "master")
    assert sent["remove_source_branch"] is True
    assert f"(https://recoverops.example.com/incidents/{incident})" in sent["description"]
    assert analysis.fix.explanation[:60] in sent["description"]
    assert refs(bare)["refs/heads/master"] == master
    assert PATCHED_IMPORTS in show(bare, branch, HELPER)

    again = open_pull_request(store, settings, incident, 0, actor="operator:bob")

    assert (again.url, again.created) == (EXAMPLE_MERGE_REQUEST_URL, False)
    assert len(gitlab.requests) == 2
    store.close()


def test_an_open_merge_request_from_the_branch_is_returned_not_duplicated(
    tmp_path: Path, gitlab: RecordedServer
) -> None:
    bare = bare_repository(tmp_path)
    settings = settings_for(tmp_path, gitlab)
    store = Store.open(settings)
    incident = store_incident(
        store, source=Source.GITLAB, body=job_event(bare), analysis=fix_analysis(tmp_path)
    )
    # An earlier attempt opened it and was not recorded: the documented example, from our branch.
    opened = json.loads(EXAMPLE_MERGE_REQUEST.read_text())
    opened["source_branch"] = f"recoverops/incident-{incident}-compilation"
    gitlab.route("GET", MERGE_REQUESTS, Reply(200, json.dumps([opened]).encode(), JSON))

    found = open_pull_request(store, settings, incident, 0, actor="t")

    assert (found.url, found.number, found.created, found.commit) == (
        EXAMPLE_MERGE_REQUEST_URL,
        133,
        False,
        None,
    )
    assert [r.method for r in gitlab.requests] == ["GET"]
    assert list(refs(bare)) == ["refs/heads/master"]  # nothing pushed
    [audit] = store.audit_entries(subject=f"incident:{incident}", verb=VERB)
    assert audit.detail["url"] == EXAMPLE_MERGE_REQUEST_URL and audit.detail["created"] is False
    store.close()


def test_what_cannot_become_a_merge_request_is_refused_before_any_call(
    tmp_path: Path, gitlab: RecordedServer
) -> None:
    bare = bare_repository(tmp_path)
    settings = settings_for(tmp_path, gitlab)
    store = Store.open(settings)
    analysis = fix_analysis(tmp_path)
    incident = store_incident(store, source=Source.GITLAB, body=job_event(bare), analysis=analysis)
    with pytest.raises(NotFoundError, match="has no fix 1"):
        open_pull_request(store, settings, incident, 1, actor="t")
    with pytest.raises(NotFoundError, match="no incident 999"):
        open_pull_request(store, settings, 999, 0, actor="t")
    without_patch = replace(analysis, fix=replace(analysis.fix, patch=None, originals={}))
    no_patch = store_incident(
        store, source=Source.GITLAB, body=job_event(bare), analysis=without_patch, delivery="d-2"
    )
    with pytest.raises(FixNotApplicable, match="has no patch"):
        open_pull_request(store, settings, no_patch, 0, actor="t")
    jenkins = store_incident(
        store, source=Source.JENKINS, body={"name": "shop"}, analysis=analysis, delivery="d-3"
    )
    with pytest.raises(ForgeNotConfigured, match="this incident came from jenkins"):
        open_pull_request(store, settings, jenkins, 0, actor="t")
    assert gitlab.requests == []
    assert list(refs(bare)) == ["refs/heads/master"]
    store.close()


def test_over_http_the_token_authenticates_git_and_is_kept_nowhere(
    tmp_path: Path, gitlab: RecordedServer
) -> None:
    # The project's clone URL is on the GitLab host (127.0.0.1), served by git's http-backend
    # behind basic authentication: the token goes with git's requests as oauth2:TOKEN.
    gitlab.route("GET", MERGE_REQUESTS, Reply(200, b"[]", JSON))
    gitlab.route("POST", MERGE_REQUESTS, Reply(201, EXAMPLE_MERGE_REQUEST.read_bytes(), JSON))
    repos = tmp_path / "repos"
    repos.mkdir()
    bare = bare_repository(repos)
    settings = settings_for(tmp_path, gitlab)
    store = Store.open(settings)
    with git_http_server(repos, user="oauth2", password=TOKEN) as server:
        body = job_event(bare)
        body["project"]["git_http_url"] = f"{server.url}/origin.git"
        incident = store_incident(
            store, source=Source.GITLAB, body=body, analysis=fix_analysis(tmp_path)
        )

        made = open_pull_request(store, settings, incident, 0, actor="t")

        assert made.created and made.url == EXAMPLE_MERGE_REQUEST_URL
        assert PATCHED_IMPORTS in show(bare, made.branch, HELPER)
        sent = {a for a in server.authorizations if a}
        assert sent == {"Basic " + base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()}
    kept = [p for p in (bare, tmp_path / "home") if TOKEN.encode() in _all_bytes(p)]
    assert kept == []
    store.close()


def test_a_token_git_refuses_is_a_forge_error_without_the_token(
    tmp_path: Path, gitlab: RecordedServer
) -> None:
    gitlab.route("GET", MERGE_REQUESTS, Reply(200, b"[]", JSON))
    repos = tmp_path / "repos"
    repos.mkdir()
    bare = bare_repository(repos)
    settings = settings_for(tmp_path, gitlab)
    store = Store.open(settings)
    with git_http_server(repos, user="oauth2", password="another-token") as server:
        body = job_event(bare)
        body["project"]["git_http_url"] = f"{server.url}/origin.git"
        incident = store_incident(
            store, source=Source.GITLAB, body=body, analysis=fix_analysis(tmp_path)
        )
        with pytest.raises(ForgeFailed, match="git ls-remote failed") as raised:
            open_pull_request(store, settings, incident, 0, actor="t")
    assert TOKEN not in str(raised.value) and "oauth2" not in str(raised.value)
    assert f"{server.url}/origin.git" in str(raised.value)
    assert list(refs(bare)) == ["refs/heads/master"]
    assert [r.method for r in gitlab.requests] == ["GET"]
    store.close()


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_a_request_opened_meanwhile_is_the_answer_when_gitlab_refuses_another(
    tmp_path: Path, gitlab: RecordedServer
) -> None:
    bare = bare_repository(tmp_path)
    settings = settings_for(tmp_path, gitlab)
    store = Store.open(settings)
    incident = store_incident(
        store, source=Source.GITLAB, body=job_event(bare), analysis=fix_analysis(tmp_path)
    )
    opened = json.loads(EXAMPLE_MERGE_REQUEST.read_text())
    opened["source_branch"] = f"recoverops/incident-{incident}-compilation"
    # None open when asked first; then another request for the same fix opens it, GitLab
    # refuses the second with its 409, and the list shows the first.
    gitlab.route(
        "GET",
        MERGE_REQUESTS,
        Reply(200, b"[]", JSON),
        Reply(200, json.dumps([opened]).encode(), JSON),
    )
    gitlab.route("POST", MERGE_REQUESTS, Reply(409, ALREADY_EXISTS, JSON))

    found = open_pull_request(store, settings, incident, 0, actor="t")

    assert (found.url, found.created) == (EXAMPLE_MERGE_REQUEST_URL, False)
    assert found.commit == refs(bare)[f"refs/heads/{found.branch}"]
    assert [r.method for r in gitlab.requests] == ["GET", "POST", "GET"]
    [audit] = store.audit_entries(subject=f"incident:{incident}", verb=VERB)
    assert audit.detail["url"] == EXAMPLE_MERGE_REQUEST_URL
    store.close()
