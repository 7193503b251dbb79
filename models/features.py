"""What a learned model reads of one analysis: a flat, JSON-able row.

The detector's analysis is the only input, so the row can be computed where the log is (a
detector actor, `recoverops analyze`), stored with the incident for retraining, and sent to the
classifier deployment without the log itself.

    chunk       the failure chunk's lines, as printed (digits, paths and ids kept)
    templates   the same lines masked (numbers, hashes, paths → placeholders): what generalises
    step        the failing step's name and last command
    signatures  the catalogue hits, as `location:signature` and `location:category` tokens
    log_format  github, gitlab, jenkins, travis or plain
    rule_*      the rules' score per category, their verdict and its confidence
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from recoverops.analysis import Analysis
from recoverops.logs.templates import mask
from recoverops.taxonomy import Category

TEXT_COLUMNS = ("chunk", "templates", "step", "signatures", "log_format", "rule_category")
RULE_SCORE_COLUMNS = tuple(f"rule_{c.value}" for c in Category)
NUMBER_COLUMNS = (*RULE_SCORE_COLUMNS, "rule_confidence")
FEATURE_COLUMNS = (*TEXT_COLUMNS, *NUMBER_COLUMNS)

# A chunk longer than this says nothing more; it only slows the vectorisers down.
MAX_CHUNK_CHARS = 8_000

FeatureRow = dict[str, Any]


def feature_row(analysis: Analysis) -> FeatureRow:
    lines = analysis.chunk or tuple(e.text for e in analysis.evidence)
    step = analysis.failing_step
    tokens = sorted(
        {f"{h.location}:{h.signature}" for h in analysis.hits}
        | {f"{h.location}:{h.category.value}" for h in analysis.hits}
    )
    row: FeatureRow = {
        "chunk": "\n".join(lines)[:MAX_CHUNK_CHARS],
        "templates": templates_text(lines),
        "step": "" if step is None else f"{step.name} {step.command or ''}".strip(),
        "signatures": " ".join(tokens),
        "log_format": analysis.log_format,
        "rule_category": analysis.category.value,
        "rule_confidence": float(analysis.confidence),
    }
    scores = {c.value: float(s) for c, s in analysis.scores.items()}
    for category, column in zip(Category, RULE_SCORE_COLUMNS, strict=True):
        row[column] = scores.get(category.value, 0.0)
    return row


def templates_text(lines: Iterable[str]) -> str:
    """The `templates` column of the chunk's `lines`."""
    return "\n".join(mask(line) for line in lines)[:MAX_CHUNK_CHARS]


def validate_row(row: Mapping[str, Any]) -> FeatureRow:
    """A row as received from outside (HTTP, the store): every column present and typed, or
    ValueError naming what is wrong."""
    missing = [c for c in FEATURE_COLUMNS if c not in row]
    if missing:
        raise ValueError(f"feature row lacks {', '.join(missing)}")
    clean: FeatureRow = {}
    for column in TEXT_COLUMNS:
        value = row[column]
        if not isinstance(value, str):
            raise ValueError(f"feature {column!r} must be a string, not {type(value).__name__}")
        clean[column] = value
    for column in NUMBER_COLUMNS:
        value = row[column]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"feature {column!r} must be a number, not {type(value).__name__}")
        clean[column] = float(value)
    return clean
