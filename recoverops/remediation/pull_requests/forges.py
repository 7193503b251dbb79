"""The forge half of a pull request: GitHub through PyGithub, GitLab through python-gitlab.

Each forge answers three questions (its default branch, an open request from a branch, and a new
one) and says where git may carry its token (`host`, `git_user`). Every error of the client or
the network becomes ForgeFailed with the forge's own words; a missing setting is
ForgeNotConfigured.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from recoverops.errors import ForgeFailed, ForgeNotConfigured
from recoverops.redaction import redact_text
from recoverops.remediation.pull_requests.repository import Repository
from recoverops.settings import Settings

API_TIMEOUT_S = 20


@dataclass(frozen=True, slots=True)
class Opened:
    url: str  # the page a person reviews it at
    number: int  # GitHub's number, GitLab's iid


class Forge(Protocol):
    name: str
    host: str  # where git may send the token
    git_user: str

    @property
    def token(self) -> str | None: ...

    def default_branch(self) -> str: ...

    def find_open(self, branch: str, *, base: str) -> Opened | None: ...

    def open(self, *, branch: str, base: str, title: str, body: str) -> Opened: ...


def forge_for(repository: Repository, settings: Settings) -> Forge:
    if repository.forge == "github":
        return GitHubForge(repository, settings)
    return GitLabForge(repository, settings)


class GitHubForge:
    name = "GitHub"
    git_user = "x-access-token"

    def __init__(self, repository: Repository, settings: Settings) -> None:
        from github import Auth, Github  # loaded on first use, like the remediators' clients

        if settings.github_token is None:
            raise ForgeNotConfigured(
                "RECOVEROPS_GITHUB_TOKEN is not set: opening a pull request needs a token with "
                "Contents: write and Pull requests: write"
            )
        self.token = settings.github_token.get_secret_value()
        api = urlsplit(settings.github_api_url).hostname or ""
        # github.com's API is api.github.com; GitHub Enterprise Server's is HOST/api/v3.
        self.host = "github.com" if api == "api.github.com" else api
        self._owner = repository.project.split("/", 1)[0]
        self._name = repository.project
        # No retries: a create that timed out but went through must not be sent twice.
        self._client = Github(
            auth=Auth.Token(self.token),
            base_url=settings.github_api_url.rstrip("/"),
            timeout=API_TIMEOUT_S,
            retry=None,
            user_agent="recoverops",
        )
        self._repo: Any = None

    def default_branch(self) -> str:
        branch: str = self._repository().default_branch
        return branch

    def find_open(self, branch: str, *, base: str) -> Opened | None:
        with _answers(self.name):
            pulls = self._repository().get_pulls(
                state="open", head=f"{self._owner}:{branch}", base=base
            )
            # The first page only: filtered by head, it holds the one request of the branch.
            for pull in pulls.get_page(0):
                # The head filter is the server's; a request from another branch is not ours.
                if pull.head.ref == branch:
                    return Opened(pull.html_url, pull.number)
        return None

    def open(self, *, branch: str, base: str, title: str, body: str) -> Opened:
        with _answers(self.name):
            pull = self._repository().create_pull(
                base=base, head=branch, title=title, body=body, maintainer_can_modify=True
            )
            return Opened(pull.html_url, pull.number)

    def _repository(self) -> Any:
        if self._repo is None:
            with _answers(self.name):
                self._repo = self._client.get_repo(self._name)
        return self._repo


class GitLabForge:
    name = "GitLab"
    git_user = "oauth2"

    def __init__(self, repository: Repository, settings: Settings) -> None:
        import gitlab

        if settings.gitlab_token is None:
            raise ForgeNotConfigured(
                "RECOVEROPS_GITLAB_TOKEN is not set: opening a merge request needs a token with "
                "the api scope"
            )
        url = settings.gitlab_url or "https://gitlab.com"
        self.token = settings.gitlab_token.get_secret_value()
        self.host = urlsplit(url).hostname or ""
        self._default = repository.default_branch
        self._client = gitlab.Gitlab(
            url=url,
            private_token=self.token,
            timeout=API_TIMEOUT_S,
            retry_transient_errors=False,
            # Follow no URL a response names on another host (pagination links).
            keep_base_url=True,
            user_agent="recoverops",
        )
        self._project = self._client.projects.get(repository.project, lazy=True)

    def default_branch(self) -> str:
        if self._default is None:
            with _answers(self.name):
                self._default = self._client.projects.get(self._project.id).default_branch
        if not self._default:
            raise ForgeFailed("GitLab names no default branch for the project")
        return self._default

    def find_open(self, branch: str, *, base: str) -> Opened | None:
        with _answers(self.name):
            found = self._project.mergerequests.list(
                source_branch=branch, target_branch=base, state="opened", get_all=False
            )
            for request in found:
                if request.source_branch == branch:
                    return Opened(request.web_url, request.iid)
        return None

    def open(self, *, branch: str, base: str, title: str, body: str) -> Opened:
        with _answers(self.name):
            request = self._project.mergerequests.create(
                {
                    "source_branch": branch,
                    "target_branch": base,
                    "title": title,
                    "description": body,
                    "remove_source_branch": True,
                }
            )
            return Opened(request.web_url, request.iid)


@contextmanager
def _answers(forge: str) -> Iterator[None]:
    """The client's and the network's errors as ForgeFailed, with what the forge said."""
    import gitlab
    import requests
    from github import GithubException

    try:
        yield
    except GithubException as error:
        raise ForgeFailed(_said(forge, error.status, _github_message(error.data))) from None
    except gitlab.GitlabError as error:
        raise ForgeFailed(_said(forge, error.response_code, str(error.error_message))) from None
    except requests.RequestException as error:
        raise ForgeFailed(f"{forge} could not be reached: {type(error).__name__}") from None


def _said(forge: str, status: int | None, message: str) -> str:
    said = message or "no message"
    text = (
        f"{forge} failed: {said}" if status is None else f"{forge} answered HTTP {status}: {said}"
    )
    return redact_text(text)[:500]


def _github_message(data: Any) -> str:
    if not isinstance(data, dict):
        return str(data or "")
    message = str(data.get("message") or "")
    # GitHub's 422s say what was wrong in `errors` ("A pull request already exists for …").
    details = [
        str(e.get("message") or e.get("code") or "")
        for e in data.get("errors") or []
        if isinstance(e, dict)
    ]
    return "; ".join(part for part in [message, *details] if part)
