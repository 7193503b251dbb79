"""What a pull or merge request says: the title, the description a reviewer reads (the root
cause, the fix's explanation and actions, the evidence, a link to the incident) and the commit
message. Everything that came from a log is masked again here, and evidence sits in a fenced
block, where a `@name` or a link in a log line is shown, not acted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recoverops.redaction import redact_text

MAX_EVIDENCE_LINES = 10
MAX_LINE_CHARS = 300
MAX_TEXT_CHARS = 3000
TITLE_CHARS = 120


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the request is about: the incident and the fix, as `GET /incidents/{id}` shows them."""

    incident_id: int
    target: str
    category: str
    fix: Mapping[str, Any]
    root_cause: Mapping[str, Any] | None
    evidence: Sequence[Mapping[str, Any]]
    link: str | None  # the incident's address (None: RECOVEROPS_PUBLIC_URL is unset)


def title(proposal: Proposal) -> str:
    files = [str(f) for f in proposal.fix.get("files") or []]
    where = f" in {files[0]}" if files else ""
    kind = proposal.fix.get("kind", "fix")
    text = f"RecoverOps: {kind} fix{where} (incident #{proposal.incident_id})"
    return _clip(redact_text(text), TITLE_CHARS)


def commit_message(proposal: Proposal) -> str:
    explanation = _clip(redact_text(str(proposal.fix.get("explanation") or "")), MAX_TEXT_CHARS)
    lines = [title(proposal), "", explanation, "", f"Incident: {_incident(proposal)}"]
    return "\n".join(lines).strip() + "\n"


def description(proposal: Proposal) -> str:
    fix = proposal.fix
    out = [
        f"RecoverOps proposes this change for {_incident(proposal)}: a "
        f"`{proposal.category}` failure of `{_inline(proposal.target)}`.",
        "",
    ]
    cause = (proposal.root_cause or {}).get("explanation")
    if cause:
        out += ["### Root cause", "", _paragraph(cause), ""]
    out += ["### The fix", "", _paragraph(str(fix.get("explanation") or ""))]
    confidence = fix.get("confidence")
    if isinstance(confidence, int | float):
        out += ["", f"Kind `{fix.get('kind')}`, confidence {confidence:.2f}."]
    actions = [str(a) for a in fix.get("actions") or []]
    if actions:
        out += ["", "Also to do:", ""]
        out += [f"- {_clip(redact_text(a), MAX_LINE_CHARS)}" for a in actions[:5]]
    lines = [e for e in proposal.evidence if isinstance(e, Mapping)][:MAX_EVIDENCE_LINES]
    if lines:
        out += ["", "### Evidence", "", "The log lines that decided the diagnosis, secrets masked:"]
        out += ["", "```text"]
        for entry in lines:
            text = _clip(redact_text(str(entry.get("text", ""))), MAX_LINE_CHARS)
            out.append(f"{entry.get('line', '?'):>6} | {text.replace('```', 'ʼʼʼ')}")
        out.append("```")
    out += [
        "",
        "---",
        "The patch was validated before it was proposed (it applies, and the files it touches "
        "still parse). Review it as you would any change: RecoverOps never merges it.",
    ]
    return "\n".join(out) + "\n"


def _incident(proposal: Proposal) -> str:
    name = f"incident #{proposal.incident_id}"
    return f"[{name}]({proposal.link})" if proposal.link else name


def _paragraph(text: str) -> str:
    return _clip(redact_text(text), MAX_TEXT_CHARS)


def _inline(text: str) -> str:
    return redact_text(text).replace("`", "'")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
