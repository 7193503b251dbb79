"""Jenkins: the Notification plugin's JSON (`jenkinsci/notification-plugin`).

One build notifies at each phase it reaches (QUEUED, STARTED, COMPLETED, FINALIZED), so a
delivery is named by job, build number and phase. The job is named by its URL path
(`job/folder/job/name/`), unique in a Jenkins, rather than its short `name`, which is not.

Only FINALIZED counts as the failure: COMPLETED of the same build comes first with the same
status, and analyzing both would count one failed build twice. FINALIZED is sent once post-build
steps ran, so the console log is complete; it is also the phase of the plugin's own "failed"
event. An endpoint set to notify on "completed" only therefore stores builds but analyzes none.
"""

from __future__ import annotations

from typing import Any

from .base import Delivery, bounded_delivery_id, field, optional_field

FAILURE_PHASE = "FINALIZED"
# Jenkins Result names: UNSTABLE is a build whose tests failed.
FAILED_STATUSES = frozenset({"FAILURE", "UNSTABLE"})


def delivery(body: dict[str, Any]) -> Delivery:
    name = field(body, "name", str)
    number = field(body, "build.number", int)
    phase = field(body, "build.phase", str).upper()
    status = optional_field(body, "build.status", str)
    job = _job_path(optional_field(body, "url", str)) or name
    return Delivery(
        kind=f"build.{phase.lower()}",
        delivery_id=bounded_delivery_id(f"{job}#{number}:{phase}"),
        failure=phase == FAILURE_PHASE and status in FAILED_STATUSES,
        target=job,
        body=body,
    )


def _job_path(url: str | None) -> str | None:
    """`job/a/job/b/` → `a/b`; None when the URL is not a job path."""
    if not url:
        return None
    parts = [part for part in url.strip("/").split("/") if part]
    names = parts[1::2]
    if not names or any(part != "job" for part in parts[0::2]) or len(parts) % 2:
        return None
    return "/".join(names)
