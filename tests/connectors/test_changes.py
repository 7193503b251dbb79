"""The failing commit's changed files: GitHub's compare and commit endpoints as Prism serves them
from GitHub's own OpenAPI description (a request off the description is refused), GitLab's
compare and commit-diff endpoints from a local server, and every failure answered None."""

from __future__ import annotations

import json

from recoverops.connectors.changes import ApiChangedFiles, CommitRange
from tests.connectors.fake_server import Reply, closed_port_url, running
from tests.remediation.prism_fixture import prism_url

__all__ = ["prism_url"]

HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
BASE = "9a8f5c1e2d3b4a5f6e7d8c9b0a1f2e3d4c5b6a79"


def test_github_compare_and_commit_against_githubs_description(prism_url: str) -> None:
    changes = ApiChangedFiles(github_api_url=prism_url, github_token="test-token")
    # The description's example comparison and commit both change file1.txt.
    assert changes(CommitRange("github", "octocat/Hello-World", head=HEAD, base=BASE)) == [
        "file1.txt"
    ]
    assert changes(CommitRange("github", "octocat/Hello-World", head=HEAD)) == ["file1.txt"]


def test_gitlab_compare_from_the_passing_commit_and_the_commit_diff_alone() -> None:
    compare = {"commits": [], "diffs": [{"old_path": "app/a.py", "new_path": "app/a.py"}]}
    diff = [{"old_path": "README.md", "new_path": "docs/README.md"}]
    with running() as server:
        server.route(
            "/api/v4/projects/42/repository/compare", Reply(200, json.dumps(compare).encode())
        )
        server.route(
            f"/api/v4/projects/42/repository/commits/{HEAD}/diff",
            Reply(200, json.dumps(diff).encode()),
        )
        changes = ApiChangedFiles(
            github_api_url="http://unused", gitlab_url=server.url, gitlab_token="glpat-x"
        )
        assert changes(CommitRange("gitlab", "42", head=HEAD, base=BASE)) == ["app/a.py"]
        assert changes(CommitRange("gitlab", "42", head=HEAD)) == ["docs/README.md"]
        asked = server.seen[0]
        assert f"from={BASE}" in asked.path and f"to={HEAD}" in asked.path
        assert asked.headers["private-token"] == "glpat-x"


def test_an_error_a_refusal_or_a_bad_sha_is_not_known() -> None:
    with running() as server:
        server.route(f"/repos/o/r/commits/{HEAD}", Reply(500, b"{}"))
        changes = ApiChangedFiles(github_api_url=server.url)
        assert changes(CommitRange("github", "o/r", head=HEAD)) is None
        assert changes(CommitRange("github", "o/r", head="not a sha; rm -rf")) is None
        assert server.paths() == [f"/repos/o/r/commits/{HEAD}?per_page=100"]
    down = ApiChangedFiles(github_api_url=closed_port_url(), timeout=2.0)
    assert down(CommitRange("github", "o/r", head=HEAD)) is None
    assert (
        ApiChangedFiles(github_api_url="http://x")(CommitRange("jenkins", "job", head=HEAD)) is None
    )
