"""A fix proposal as a pull request (GitHub) or merge request (GitLab), opened once.

    incident ─► fix n (must carry a patch) ─► repository (from the incident's webhook payload)
      ─► already opened? (the audit log, then the forge, by branch) ─► push the branch ─► open
      ─► timeline + audit

Asking again for the same incident and fix returns the request already opened: the audit log
remembers it, and when it does not (a crash between opening and recording), the forge is asked
for an open request from the fix's branch before another is opened. The branch is
`recoverops/incident-ID-KIND` and never the default branch (`git.Remote.push_patch` asks the
remote and refuses it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from recoverops.errors import FixNotApplicable, ForgeFailed, NotFoundError
from recoverops.redaction import redact_json
from recoverops.remediation.pull_requests.forges import Opened, forge_for
from recoverops.remediation.pull_requests.git import Remote
from recoverops.remediation.pull_requests.repository import credentials_for, repository_of
from recoverops.remediation.pull_requests.text import (
    Proposal,
    commit_message,
    description,
    title,
)
from recoverops.settings import Settings
from recoverops.store import Store, StoredIncident

VERB = "fix.pull_request"
STAGE = "pull_request"
_RECENT = 200  # audit entries of one incident looked through for an earlier request


@dataclass(frozen=True, slots=True)
class PullRequest:
    url: str
    number: int
    forge: str  # "github" or "gitlab"
    project: str
    branch: str
    base: str
    commit: str | None  # the branch's head when RecoverOps pushed it in this call or before
    created: bool  # False: it was already open, nothing new was opened


def fixes_of(incident: StoredIncident) -> list[Mapping[str, Any]]:
    """The incident's fix proposals, best first: the analysis's `fixes` list when it has one,
    else its one `fix` (so fix 0 is the fix `GET /incidents/{id}` shows)."""
    analysis = incident.analysis or {}
    many = analysis.get("fixes")
    if isinstance(many, list):
        return [f for f in many if isinstance(f, Mapping)]
    one = analysis.get("fix")
    return [one] if isinstance(one, Mapping) else []


def branch_for(incident_id: int, n: int, kind: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or "fix"
    return f"recoverops/incident-{incident_id}-{slug}" + (f"-{n}" if n else "")


def open_pull_request(
    store: Store, settings: Settings, incident_id: int, n: int, *, actor: str
) -> PullRequest:
    """Open (or find) the pull or merge request of the incident's fix `n`.

    NotFoundError: no such incident or fix. FixNotApplicable: the fix has no patch, or it does
    not apply to the default branch. DefaultBranchRefused, ForgeNotConfigured, ForgeFailed: as
    they say."""
    incident = store.get_incident(incident_id)
    if incident is None:
        raise NotFoundError(f"no incident {incident_id}")
    fixes = fixes_of(incident)
    if not 0 <= n < len(fixes):
        raise NotFoundError(f"incident {incident_id} has no fix {n} ({len(fixes)} proposed)")
    fix = fixes[n]
    patch = fix.get("patch")
    if not isinstance(patch, str) or not patch.strip():
        raise FixNotApplicable(
            f"fix {n} of incident {incident_id} has no patch: a pull request needs one "
            "(analyze with a checkout of the repository to get a validated patch)"
        )
    digest = hashlib.sha256(patch.encode()).hexdigest()[:16]
    earlier = _recorded(store, incident_id, n)
    if earlier is not None:
        return earlier
    event = store.latest_event_of(incident_id)
    repository = repository_of(incident.source, None if event is None else event.payload)
    forge = forge_for(repository, settings)
    branch = branch_for(incident_id, n, str(fix.get("kind") or "fix"))
    base = repository.default_branch or forge.default_branch()

    def request(opened: Opened, commit: str | None, *, created: bool) -> PullRequest:
        return PullRequest(
            url=opened.url,
            number=opened.number,
            forge=repository.forge,
            project=repository.project,
            branch=branch,
            base=base,
            commit=commit,
            created=created,
        )

    found = forge.find_open(branch, base=base)
    if found is not None:
        return _record(store, incident_id, n, actor, request(found, None, created=False), digest)
    proposal = Proposal(
        incident_id=incident_id,
        target=incident.target,
        category=incident.category.value,
        fix=fix,
        root_cause=_mapping((incident.analysis or {}).get("root_cause")),
        evidence=redact_json(list(incident.evidence)),
        link=_link(settings, incident_id),
    )
    remote = Remote(
        repository.clone_url,
        shown_as=repository.clone_url,
        auth=credentials_for(
            repository.clone_url, host=forge.host, user=forge.git_user, token=forge.token
        ),
    )
    pushed = remote.push_patch(
        base=base,
        branch=branch,
        patch=patch,
        message=commit_message(proposal),
        author=settings.fix_author,
    )
    try:
        opened = forge.open(
            branch=branch, base=base, title=title(proposal), body=description(proposal)
        )
    except ForgeFailed:
        # Another request for the same fix may have opened it meanwhile (the forge refuses a
        # second request from one branch): that one is the answer.
        raced = forge.find_open(branch, base=base)
        if raced is None:
            raise
        return _record(
            store, incident_id, n, actor, request(raced, pushed.commit, created=False), digest
        )
    return _record(
        store, incident_id, n, actor, request(opened, pushed.commit, created=True), digest
    )


def _recorded(store: Store, incident_id: int, n: int) -> PullRequest | None:
    entries = store.audit_entries(subject=f"incident:{incident_id}", verb=VERB, limit=_RECENT)
    for entry in entries:  # newest first
        d = entry.detail
        if d.get("fix") != n or not isinstance(d.get("url"), str):
            continue
        return PullRequest(
            url=str(d["url"]),
            number=int(d.get("number") or 0),
            forge=str(d.get("forge") or ""),
            project=str(d.get("project") or ""),
            branch=str(d.get("branch") or ""),
            base=str(d.get("base") or ""),
            commit=d.get("commit") if isinstance(d.get("commit"), str) else None,
            created=False,
        )
    return None


def _record(
    store: Store, incident_id: int, n: int, actor: str, request: PullRequest, digest: str
) -> PullRequest:
    kind = "pull request" if request.forge == "github" else "merge request"
    verb = "opened" if request.created else "found open"
    store.note_on_incident(
        incident_id,
        actor=actor,
        verb=VERB,
        stage=STAGE,
        text=f"fix {n}: {kind} {verb}: {request.url} (branch {request.branch} into {request.base})",
        detail={**asdict(request), "fix": n, "patch_sha256": digest},
    )
    return request


def _link(settings: Settings, incident_id: int) -> str | None:
    if settings.public_url is None:
        return None
    return f"{settings.public_url.rstrip('/')}/incidents/{incident_id}"


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None
