"""The incident store as a dataset: one row per incident an operator gave a category.

The features are the ones the detector computed when the incident's log was analyzed (stored with
the incident by `recoverops.actors.process`), so the log itself need not be kept; the label is the
category of the incident's latest feedback that gave one. The frame has exactly the columns of
`training.datasets.COLUMNS`, so it concatenates with the corpus frames and splits by project:

    example_id   incident/<id>
    project      the repository (or Jenkins job path) the incident's target names
    source       incidents
    label        the operator's taxonomy id

A labelled incident without a usable feature row (its log was never analyzed, or the row was
stored by an older feature version) is skipped and counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from recoverops.incidents import Source
from recoverops.models.features import validate_row
from recoverops.store import LabelledIncident, Store

from .datasets import COLUMNS

SOURCE = "incidents"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IncidentData:
    """The frame, and how many labelled incidents it left out for want of features."""

    frame: pd.DataFrame
    skipped: int


def project_of(target: str, source: Source) -> str:
    """The repository an incident's target names, as the corpora name projects.

    Targets are `<source>:<job as its CI names it>` (see `recoverops.actors.jobs`): GitHub's
    `owner/repo:workflow/job` and GitLab's `group/project:stage/job` give `owner/repo` and
    `group/project`, the same names BugSwarm uses, so one project's incidents and corpus logs
    fall on the same side of a split. A Jenkins job path names no repository; it is its own.
    """
    name = target.removeprefix(f"{source.value}:")
    repository = name.split(":", 1)[0]
    return repository or name


def incident_data(store: Store) -> IncidentData:
    """Every labelled incident with usable features, as a frame with `COLUMNS`."""
    rows: list[dict[str, Any]] = []
    skipped = 0
    for incident in store.labelled_incidents():
        row = _row(incident)
        if row is None:
            skipped += 1
        else:
            rows.append(row)
    return IncidentData(frame=pd.DataFrame(rows, columns=list(COLUMNS)), skipped=skipped)


def incidents_frame(store: Store) -> pd.DataFrame:
    """The labelled incidents as a dataset frame (see `incident_data` for the skipped count)."""
    data = incident_data(store)
    if data.skipped:
        log.info("%d labelled incident(s) have no usable feature row: left out", data.skipped)
    return data.frame


def _row(incident: LabelledIncident) -> dict[str, Any] | None:
    if incident.features is None:
        return None
    try:
        features = validate_row(incident.features)
    except ValueError as error:  # a row from an older feature version
        log.debug("incident %d: %s", incident.incident_id, error)
        return None
    return {
        "example_id": f"incident/{incident.incident_id}",
        "project": project_of(incident.target, incident.source),
        "source": SOURCE,
        "label": incident.label.value,
        **features,
    }
