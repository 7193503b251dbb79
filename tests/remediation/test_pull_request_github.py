"""A fix's pull request on GitHub: PyGithub against Prism serving GitHub's OpenAPI description
(every request must pass its validation), through a proxy that rewrites the examples' host, and
the branch pushed to a local bare repository."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from recoverops.errors import ForgeFailed, ForgeNotConfigured
from recoverops.incidents import Source
from recoverops.remediation.pull_requests import open_pull_request
from recoverops.remediation.pull_requests.service import STAGE, VERB
from recoverops.settings import Settings
from recoverops.store import Store
from tests.remediation.pr_world import (
    FIXTURES,
    HELPER,
    PATCHED_IMPORTS,
    bare_repository,
    fix_analysis,
    refs,
    show,
    store_incident,
)
from tests.remediation.prism_fixture import prism_url
from tests.remediation.rewriting_proxy import RewritingProxy, rewriting_proxy

__all__ = ["prism_url"]

TOKEN = "ghp_" + "pullRequestTest0123456789abcdefghij"
REPO = "/repos/octocat/Hello-World"
FAILED_JOB = (
    FIXTURES / "webhooks/github/workflow_job/completed.failure.with-organization.payload.json"
)
# Prism answers with the description's example pull request.
EXAMPLE_PR = "https://github.com/octocat/Hello-World/pull/1347"


@pytest.fixture
def github(prism_url: str) -> Iterator[RewritingProxy]:
    with rewriting_proxy(prism_url) as proxy:
        yield proxy


def settings_for(tmp_path: Path, api: str, token: str | None = TOKEN) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=None,
        github_api_url=api,
        github_token=None if token is None else SecretStr(token),
        public_url="https://recoverops.example.com/",
    )


def failed_job(bare: Path) -> dict[str, object]:
    """GitHub's failed workflow_job delivery, its repository cloned from the bare repository."""
    body: dict[str, object] = json.loads(FAILED_JOB.read_text())
    repository = dict(body["repository"])  # type: ignore[call-overload]
    repository.update(
        full_name="octocat/Hello-World", clone_url=f"file://{bare}", default_branch="master"
    )
    return {**body, "repository": repository}


def test_a_fix_becomes_one_pull_request_on_a_branch_of_its_own(
    tmp_path: Path, github: RewritingProxy
) -> None:
    bare = bare_repository(tmp_path)
    master = refs(bare)["refs/heads/master"]
    analysis = fix_analysis(tmp_path)
    settings = settings_for(tmp_path, github.url)
    store = Store.open(settings)
    incident = store_incident(store, source=Source.GITHUB, body=failed_job(bare), analysis=analysis)

    made = open_pull_request(store, settings, incident, 0, actor="operator:alice")

    branch = f"recoverops/incident-{incident}-compilation"
    assert (made.url, made.number, made.created) == (EXAMPLE_PR, 1347, True)
    assert (made.branch, made.base, made.forge) == (branch, "master", "github")
    # Prism validated each request against GitHub's description: a wrong one is answered 4xx.
    assert github.calls() == [
        ("GET", REPO, 200),
        ("GET", f"{REPO}/pulls", 200),  # an open request from the branch? (none of ours)
        ("POST", f"{REPO}/pulls", 201),
    ]
    listing, create = github.exchanges[1], github.exchanges[2]
    assert f"head=octocat%3A{branch.replace('/', '%2F')}" in listing.path
    assert create.headers["authorization"] == f"token {TOKEN}"
    sent = json.loads(create.body)
    assert (sent["head"], sent["base"]) == (branch, "master")
    assert sent["title"].startswith("RecoverOps: compilation fix in hotswap-agent-core/")
    body = sent["body"]
    assert f"[incident #{incident}](https://recoverops.example.com/incidents/{incident})" in body
    assert analysis.root_cause.explanation[:60] in body
    assert analysis.fix.explanation[:60] in body
    for evidence in analysis.evidence[:3]:
        assert evidence.text[:60] in body
    # The branch holds the patched file; the default branch did not move.
    assert refs(bare)["refs/heads/master"] == master
    assert refs(bare)[f"refs/heads/{branch}"] == made.commit
    assert PATCHED_IMPORTS in show(bare, branch, HELPER)
    # The incident's timeline and the audit log say it.
    [entry] = [e for e in store.incident_timeline(incident) if e.stage == STAGE]
    assert EXAMPLE_PR in entry.detail and branch in entry.detail
    [audit] = store.audit_entries(subject=f"incident:{incident}", verb=VERB)
    assert audit.actor == "operator:alice" and audit.detail["url"] == EXAMPLE_PR
    assert TOKEN not in json.dumps(audit.detail) + entry.detail

    again = open_pull_request(store, settings, incident, 0, actor="operator:bob")

    assert (again.url, again.created, again.branch) == (EXAMPLE_PR, False, branch)
    assert len(github.exchanges) == 3  # nothing asked of GitHub, nothing opened
    assert len(store.audit_entries(subject=f"incident:{incident}", verb=VERB)) == 1
    store.close()


def test_githubs_refusal_is_a_forge_error_with_its_words(
    tmp_path: Path, github: RewritingProxy
) -> None:
    # GitHub's documented 422 for a pull request it will not open (Prism's example of it).
    github.prefer[("POST", f"{REPO}/pulls")] = 422
    bare = bare_repository(tmp_path)
    settings = settings_for(tmp_path, github.url)
    store = Store.open(settings)
    incident = store_incident(
        store, source=Source.GITHUB, body=failed_job(bare), analysis=fix_analysis(tmp_path)
    )
    # Prism answers the schema of GitHub's validation error: {"message": "string", ...}.
    with pytest.raises(ForgeFailed, match="GitHub answered HTTP 422: string") as raised:
        open_pull_request(store, settings, incident, 0, actor="t")
    assert TOKEN not in str(raised.value)
    # Refused, and no request from the branch was opened meanwhile (asked again after the 422).
    assert github.calls()[-2:] == [("POST", f"{REPO}/pulls", 422), ("GET", f"{REPO}/pulls", 200)]
    assert store.audit_entries(subject=f"incident:{incident}", verb=VERB) == []
    # The branch stays pushed: asking again reuses it and opens the request.
    branch = f"refs/heads/recoverops/incident-{incident}-compilation"
    pushed = refs(bare)[branch]
    del github.prefer[("POST", f"{REPO}/pulls")]
    made = open_pull_request(store, settings, incident, 0, actor="t")
    assert (made.url, made.commit, refs(bare)[branch]) == (EXAMPLE_PR, pushed, pushed)
    store.close()


def test_no_token_is_a_configuration_error(tmp_path: Path) -> None:
    bare = bare_repository(tmp_path)
    settings = settings_for(tmp_path, "https://api.github.com", token=None)
    store = Store.open(settings)
    incident = store_incident(
        store, source=Source.GITHUB, body=failed_job(bare), analysis=fix_analysis(tmp_path)
    )
    with pytest.raises(ForgeNotConfigured, match="RECOVEROPS_GITHUB_TOKEN is not set"):
        open_pull_request(store, settings, incident, 0, actor="t")
    store.close()
