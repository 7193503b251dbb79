"""Lines the last passing run printed too are not why this run failed.

A failing job's log holds its warnings, its deprecation notices and its retried downloads, and so
did the passing run before it. LogSage and CiDiff compare the two: a line whose template (its text
with numbers, hashes, times and paths masked, `recoverops.logs.templates.mask`) also occurs in the
passing log is dropped from the evidence; what is left is what changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from recoverops.logs.document import LogDocument
from recoverops.logs.ranker import Candidate
from recoverops.logs.templates import mask

# The passing log is read as deeply as the failing one's window.
PASSING_LINES = 20_000


def passing_templates(passing_text: str) -> frozenset[str]:
    """The masked templates of the passing log's last `PASSING_LINES` printed lines."""
    doc = LogDocument(passing_text)
    first = max(1, len(doc) - PASSING_LINES + 1)
    found = set()
    for number in range(first, len(doc) + 1):
        line = doc.clean(number)
        if line.strip():
            found.add(mask(line))
    return frozenset(found)


def drop_passing(found: Sequence[Candidate], passing_text: str) -> list[Candidate]:
    """The candidates whose template the passing log did not print; all of them if it printed
    every one (then the comparison tells nothing, and the failing log's own order stands)."""
    seen = passing_templates(passing_text)
    kept = [c for c in found if mask(c.item.text) not in seen]
    return kept or list(found)
