"""Datasets for training and evaluation: one pandas frame per source, one row per failure.

Every frame has the columns `example_id`, `project`, `source`, `label` (a taxonomy id, or None
when the example is unlabelled) and the feature columns of `recoverops.models.features`. Rows are
built by running the detector on each log, so a model trained here sees exactly what the running
system will show it.

Splits are by project, never by file (`recoverops.sides`): two failures of one project share its
build files, test names and vocabulary, and a model evaluated on a project it was trained on looks
better than it is on the projects our users run. A model is fitted on the dev side and judged
(and promoted) on the validation side; the test side is for reported figures only, and training
never reads it: `without_test_side` drops its examples before a log is opened.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from recoverops.detector import analyze_text
from recoverops.errors import RecoverOpsError
from recoverops.models.features import FEATURE_COLUMNS, feature_row
from recoverops.sides import SIDES, Side, side_of
from recoverops.taxonomy import Category

META_COLUMNS = ("example_id", "project", "source", "label")
COLUMNS = (*META_COLUMNS, *FEATURE_COLUMNS)
# The four classes BugSwarm labels.
BUILD_LABELS = (
    Category.BUILD_TEST.value,
    Category.BUILD_LINT.value,
    Category.BUILD_COMPILATION.value,
    Category.BUILD_DEPENDENCY.value,
)


class DatasetError(RecoverOpsError):
    """A data folder that is not a corpus we know, with what was expected."""


@dataclass(frozen=True, slots=True)
class LogExample:
    example_id: str
    project: str
    source: str
    label: str | None
    path: Path


def without_test_side(examples: Iterable[LogExample]) -> list[LogExample]:
    """The examples whose project is not on the test side: all that training may read."""
    return [e for e in examples if side_of(e.project) != "test"]


def split_sides(frame: pd.DataFrame) -> dict[Side, pd.DataFrame]:
    """The frame's rows by side: every example of a project on the same side."""
    sides = frame["project"].map(side_of)
    return {part: frame[sides == part].reset_index(drop=True) for part in SIDES}


def bugswarm_examples(folder: Path) -> list[LogExample]:
    """The BugSwarm layout: `index.csv` and `<artifact>/failing.log`, labelled by
    `suggested_label` (empty: unlabelled)."""
    index = folder / "index.csv"
    if not index.is_file():
        raise DatasetError(f"{folder}: no index.csv (expected the BugSwarm layout)")
    examples = []
    with index.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if "artifact" not in row or "project" not in row:
                raise DatasetError(f"{index}: needs the columns artifact and project")
            label = (row.get("suggested_label") or "").strip() or None
            if label is not None and label not in Category._value2member_map_:
                raise DatasetError(f"{index}: {row['artifact']} has unknown label {label!r}")
            examples.append(
                LogExample(
                    example_id=f"bugswarm/{row['artifact']}",
                    project=row["project"],
                    source="bugswarm",
                    label=label,
                    path=folder / row["artifact"] / "failing.log",
                )
            )
    return examples


def logchunks_examples(folder: Path) -> list[LogExample]:
    """The LogChunks layout: `build-failure-reason/<language>/<owner@repo>.xml` naming logs under
    `logs/`. Its labels are failure chunks, not failure types: the examples are unlabelled."""
    reasons = folder / "build-failure-reason"
    if not reasons.is_dir():
        raise DatasetError(f"{folder}: no build-failure-reason/ (expected the LogChunks layout)")
    examples = []
    for xml in sorted(reasons.rglob("*.xml")):
        try:
            root = ET.parse(xml).getroot()
        except ET.ParseError as error:
            raise DatasetError(f"{xml}: not valid XML: {error}") from None
        for example in root.iter("Example"):
            log = (example.findtext("Log") or "").strip()
            if not log:
                continue
            repository = log.split("/")[1] if log.count("/") >= 2 else xml.stem
            examples.append(
                LogExample(
                    example_id=f"logchunks/{log}",
                    project=repository.replace("@", "/"),
                    source="logchunks",
                    label=None,
                    path=folder / "logs" / log,
                )
            )
    return examples


# The labelled-texts layout (the repository's `corpus/`): one folder per category, each text a
# file, described by the folder's `labels.csv` (or several `labels-<part>.csv`).
LABELS_GLOB = "*/labels*.csv"
_TEXT_COLUMNS = ("file", "category", "group")


def labelled_texts_examples(folder: Path) -> list[LogExample]:
    """The labelled-texts layout: `<category>/labels*.csv` rows naming `<category>/<file>`,
    labelled by `category`, their project the `group` (repository) the text came from."""
    examples = []
    for labels in sorted(folder.glob(LABELS_GLOB)):
        with labels.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in _TEXT_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise DatasetError(f"{labels}: needs the columns {', '.join(missing)}")
            for number, row in enumerate(reader, start=2):
                label = row["category"].strip()
                if label not in Category._value2member_map_:
                    raise DatasetError(f"{labels}:{number}: unknown category {label!r}")
                name = f"{labels.parent.name}/{row['file'].strip()}"
                examples.append(
                    LogExample(
                        example_id=f"{folder.name}/{name}",
                        project=row["group"].strip(),
                        source=folder.name,
                        label=label,
                        path=folder / name,
                    )
                )
    return examples


def corpus_examples(folder: Path) -> list[LogExample]:
    """The examples of one data folder: a BugSwarm, LogChunks or labelled-texts folder, or a
    folder holding `bugswarm/` and/or `logchunks/` (like `../shared/data`)."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a directory")
    if (folder / "index.csv").is_file():
        return bugswarm_examples(folder)
    if (folder / "build-failure-reason").is_dir():
        return logchunks_examples(folder)
    if any(folder.glob(LABELS_GLOB)):
        return labelled_texts_examples(folder)
    found: list[LogExample] = []
    if (folder / "bugswarm" / "index.csv").is_file():
        found += bugswarm_examples(folder / "bugswarm")
    if (folder / "logchunks" / "build-failure-reason").is_dir():
        found += logchunks_examples(folder / "logchunks")
    if not found:
        raise DatasetError(
            f"{folder}: no corpus found (expected index.csv, build-failure-reason/, "
            "<category>/labels.csv, or bugswarm/ and logchunks/ below it)"
        )
    return found


def _row(example: LogExample, rules_only: bool = False) -> dict[str, Any]:
    text = example.path.read_bytes().decode("utf-8", errors="replace")
    row: dict[str, Any] = {
        "example_id": example.example_id,
        "project": example.project,
        "source": example.source,
        "label": example.label,
    }
    row.update(feature_row(analyze_text(text, word_model=not rules_only)))
    return row


def featurize(
    examples: Iterable[LogExample],
    *,
    workers: int = 1,
    progress: Callable[[Iterator[dict[str, Any]], int], Iterator[dict[str, Any]]] | None = None,
    rules_only: bool = False,
) -> pd.DataFrame:
    """Run the detector on each example's log (`rules_only`: without the shipped word model);
    missing logs are a DatasetError naming them."""
    todo = list(examples)
    missing = [e.path for e in todo if not e.path.is_file()]
    if missing:
        shown = ", ".join(str(p) for p in missing[:3])
        raise DatasetError(f"{len(missing)} log(s) missing, e.g. {shown}")
    rows: Iterator[dict[str, Any]]
    if workers > 1 and len(todo) > 1:
        pool = ProcessPoolExecutor(max_workers=workers)
        rows = pool.map(partial(_row, rules_only=rules_only), todo, chunksize=4)
    else:
        pool = None
        rows = map(partial(_row, rules_only=rules_only), todo)
    try:
        if progress is not None:
            rows = progress(rows, len(todo))
        frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    finally:
        if pool is not None:
            pool.shutdown()
    return frame


def labelled(frame: pd.DataFrame, labels: Iterable[str] | None = None) -> pd.DataFrame:
    """The rows with a label (among `labels`, when given)."""
    keep = frame["label"].notna()
    if labels is not None:
        keep &= frame["label"].isin(list(labels))
    return frame[keep].reset_index(drop=True)


def dataset_card(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts per source, class and split side: what a run was trained and judged on."""
    sides = frame["project"].map(side_of) if len(frame) else pd.Series([], dtype=str)
    labels = frame["label"].fillna("(unlabelled)")
    card: dict[str, Any] = {
        "examples": len(frame),
        "projects": int(frame["project"].nunique()),
        "by_source": {str(k): int(v) for k, v in frame["source"].value_counts().items()},
        "by_class": {str(k): int(v) for k, v in labels.value_counts().items()},
        "by_side": {},
    }
    for part in SIDES:
        chosen = sides == part
        card["by_side"][part] = {
            "examples": int(chosen.sum()),
            "projects": int(frame.loc[chosen, "project"].nunique()),
            "by_class": {str(k): int(v) for k, v in labels[chosen].value_counts().items()},
        }
    return card


def card_markdown(card: dict[str, Any], *, title: str = "Dataset card") -> str:
    classes = sorted(card["by_class"])
    lines = [
        f"# {title}",
        "",
        f"{card['examples']} examples from {card['projects']} projects; "
        + ", ".join(f"{n} from {s}" for s, n in sorted(card["by_source"].items()))
        + ".",
        "Split by project (a hash of its name): no project is on two sides. The model is fitted "
        "on dev and judged on validation; training never reads the test side.",
        "",
        "| class | all | " + " | ".join(SIDES) + " |",
        "|---|---|" + "---|" * len(SIDES),
    ]
    for label in classes:
        cells = [str(card["by_class"].get(label, 0))] + [
            str(card["by_side"][p]["by_class"].get(label, 0)) for p in SIDES
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    projects = " | ".join(str(card["by_side"][p]["projects"]) for p in SIDES)
    lines.append(f"| (projects) | {card['projects']} | {projects} |")
    return "\n".join(lines) + "\n"
