"""The extension point for CI log formats: recognise a log, and cut it into steps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

from recoverops.analysis import Step
from recoverops.logs.document import LogDocument


class LogFormat(Protocol):
    name: str

    def detect(self, doc: LogDocument) -> bool:
        """Whether this log was written by this CI system (cheap: literal markers only)."""
        ...

    def steps(self, doc: LogDocument) -> list[Step]:
        """The job's steps in order, each marked failed when the log says it failed."""
        ...


def matches(doc: LogDocument, pattern: re.Pattern[str]) -> Iterator[tuple[int, re.Match[str]]]:
    """Each match of a (literal-prefixed, hence fast) pattern over the raw text, with its line."""
    for match in pattern.finditer(doc.text):
        yield doc.line_at(match.start()), match


def shorten(text: str, limit: int = 160) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
