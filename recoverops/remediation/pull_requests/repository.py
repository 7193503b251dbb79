"""Which repository an incident's fix goes to: read from the webhook payload of the incident's
latest occurrence (GitHub's `repository`, GitLab's `project`), never from a request.

A clone URL is taken without any credentials it carries; the token goes to git as an HTTP
header, only for the forge's own host (`credentials_for`), so a payload naming another host
never receives it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from recoverops.errors import ForgeNotConfigured
from recoverops.incidents import Source

Forge = Literal["github", "gitlab"]
# git's own transports only: `ext::` runs commands and ssh needs keys RecoverOps does not hold.
CLONE_SCHEMES = frozenset({"https", "http", "file"})


@dataclass(frozen=True, slots=True)
class Repository:
    forge: Forge
    project: str  # GitHub's "owner/name"; GitLab's project id (or "group/name")
    clone_url: str  # without credentials
    default_branch: str | None  # what the payload says; the forge and git are asked too


def repository_of(source: Source, payload: Any) -> Repository:
    """The repository the stored event `payload` ({"failure", "target", "body"}) names."""
    body = payload.get("body") if isinstance(payload, Mapping) else None
    if not isinstance(body, Mapping):
        raise ForgeNotConfigured(
            "the incident's event carries no webhook payload naming a repository"
        )
    if source is Source.GITHUB:
        repo = body.get("repository")
        if not isinstance(repo, Mapping):
            raise ForgeNotConfigured("the GitHub event names no repository")
        name, url = repo.get("full_name"), repo.get("clone_url")
        if not isinstance(name, str) or "/" not in name or not isinstance(url, str):
            raise ForgeNotConfigured("the GitHub event's repository has no full_name or clone_url")
        return Repository("github", name, clean_clone_url(url), _text(repo.get("default_branch")))
    if source is Source.GITLAB:
        project = body.get("project")
        if not isinstance(project, Mapping):
            raise ForgeNotConfigured("the GitLab event names no project")
        ident, url = project.get("id"), project.get("git_http_url")
        if not isinstance(ident, int) or not isinstance(url, str):
            raise ForgeNotConfigured("the GitLab event's project has no id or git_http_url")
        return Repository(
            "gitlab", str(ident), clean_clone_url(url), _text(project.get("default_branch"))
        )
    raise ForgeNotConfigured(
        f"pull and merge requests are opened on GitHub and GitLab, and this incident came "
        f"from {source.value}"
    )


def clean_clone_url(url: str) -> str:
    """`url` without user or password, if git may fetch it; ForgeNotConfigured if not."""
    parts = urlsplit(url.strip())
    if parts.scheme not in CLONE_SCHEMES:
        raise ForgeNotConfigured(
            f"the repository's clone URL is not http(s) or file (scheme {parts.scheme!r})"
        )
    if parts.scheme != "file" and not parts.hostname:
        raise ForgeNotConfigured("the repository's clone URL names no host")
    host = parts.hostname or ""
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def credentials_for(url: str, *, host: str, user: str, token: str | None) -> str | None:
    """The HTTP header that authenticates git as `user:token` when `url` points at `host` (the
    forge's own); None otherwise. It goes to git in its environment (see `git.Remote`), never
    on its command line, where any local user could read it while git runs."""
    parts = urlsplit(url)
    if token is None or parts.scheme not in {"https", "http"} or parts.hostname != host:
        return None
    basic = base64.b64encode(f"{user}:{token}".encode()).decode()
    return f"Authorization: Basic {basic}"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
