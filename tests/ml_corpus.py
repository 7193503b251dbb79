"""A small real labelled corpus for the ML tests, built from the fixture cases.

The labelled cases of `tests/fixtures/cases/` (real log excerpts; sources and licences in
`tests/fixtures/NOTICE.md`) are written out in the BugSwarm layout (`index.csv` and
`<artifact>/failing.log`), so the training pipeline reads them exactly as it reads a real corpus.
Each case is its own project, named so that `recoverops.sides` puts the cases of every class on
all three sides in turn (dev, validation, dev, test, dev, ...): the repositories the excerpts came
from are all pinned to dev (the catalogue was tuned on them), and a corpus this small would
otherwise leave a class off the validation side.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from recoverops.detector import analyze_text
from recoverops.incidents import Source, fingerprint
from recoverops.models.features import feature_row
from recoverops.sides import Side, side_of
from recoverops.store import Store

CASES = Path(__file__).parent / "fixtures" / "cases"
BUILD_LABELS = ("build.test", "build.lint", "build.compilation", "build.dependency")
_LOGCHUNKS_REPO = re.compile(r"log [^/]+/([^@/]+)@([^/]+)/")
_REPOSITORY = re.compile(r"^\"?([\w.-]+/[\w.-]+)@")
_ISSUE = re.compile(r"github\.com/([\w.-]+/[\w.-]+)/(?:issues|pull)/")


def case_project(source: str, fallback: str) -> str:
    for pattern in (_LOGCHUNKS_REPO, _ISSUE):
        found = pattern.search(source)
        if found:
            return "/".join(found.groups()) if pattern is _LOGCHUNKS_REPO else found.group(1)
    found = _REPOSITORY.search(source)
    return found.group(1) if found else fallback


# The side each case of a class goes to, in turn.
_ROTATION: tuple[Side, ...] = ("dev", "validation", "dev", "test", "dev")


def fixture_project(side: Side, number: int) -> str:
    """The first project name `fixtures/case-<number>-<k>` that is on `side`."""
    k = 0
    while side_of(f"fixtures/case-{number}-{k}") != side:
        k += 1
    return f"fixtures/case-{number}-{k}"


def labelled_cases(labels: tuple[str, ...] = BUILD_LABELS) -> list[tuple[str, str, str]]:
    """(case, category, project) of each case labelled with one of `labels`, its project taking
    the class's next side in the rotation."""
    cases: list[tuple[str, str, str]] = []
    turns: dict[str, int] = {}
    for case in sorted(CASES.iterdir()):
        meta = yaml.safe_load((case / "case.yaml").read_text("utf-8"))
        if meta["category"] not in labels:
            continue
        turn = turns[meta["category"]] = turns.get(meta["category"], -1) + 1
        side = _ROTATION[turn % len(_ROTATION)]
        cases.append((case.name, meta["category"], fixture_project(side, len(cases))))
    return cases


def write_case_corpus(dest: Path, labels: tuple[str, ...] = BUILD_LABELS) -> Path:
    """Write the cases labelled with one of `labels` under `dest`; returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    for case, category, project in labelled_cases(labels):
        (dest / case).mkdir(exist_ok=True)
        (dest / case / "failing.log").write_bytes((CASES / case / "log.txt").read_bytes())
        rows.append({"artifact": case, "project": project, "suggested_label": category})
    with (dest / "index.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["artifact", "project", "suggested_label"])
        writer.writeheader()
        writer.writerows(rows)
    return dest


def store_case_incident(store: Store, case: str, *, target: str) -> int:
    """The fixture case `case` analyzed from its real log as a detector does, stored as an
    incident of `target` with its feature row; the incident's id."""
    analysis = analyze_text((CASES / case / "log.txt").read_text("utf-8", errors="replace"))
    upsert = store.upsert_incident(
        fingerprint(target=target, template_ids=analysis.templates),
        target=target,
        category=analysis.category,
        source=Source.GITHUB,
        analysis=analysis,
        features=feature_row(analysis),
    )
    return upsert.incident.id
