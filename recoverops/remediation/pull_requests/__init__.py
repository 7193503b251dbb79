"""A fix proposal with a patch, as a branch and a pull request (GitHub, PyGithub) or merge
request (GitLab, python-gitlab): `open_pull_request`. The branch is pushed with git from a
clean temporary repository; the default branch is never pushed to."""

from recoverops.remediation.pull_requests.service import (
    PullRequest,
    branch_for,
    fixes_of,
    open_pull_request,
)

__all__ = ["PullRequest", "branch_for", "fixes_of", "open_pull_request"]
