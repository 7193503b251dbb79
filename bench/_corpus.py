"""Load the shared real CI logs as cleaned lines, for the benchmarks.

Lines are cleaned as the engine cleans them (`recoverops.logs.document.clean_line`: no ANSI
codes, no timestamp prefix, only what a terminal shows after the last carriage return), so that a
benchmark compares the engine's lines with labels cleaned the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recoverops.logs.document import clean_line
from recoverops.training.line_ranker import labelled_chunks


@dataclass(frozen=True)
class Log:
    name: str  # "bugswarm/<artifact>" or "logchunks/<path>"
    lines: list[str]
    chunk: frozenset[str] = frozenset()  # LogChunks only: the labelled lines, stripped


def read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [clean_line(raw) for raw in text.split("\n")]


def _chunks(data: Path) -> dict[str, frozenset[str]]:
    """LogChunks labels: log path (relative to logs/) -> the labelled chunk's non-blank lines."""
    chunks: dict[str, frozenset[str]] = labelled_chunks(data)
    return chunks


def load(data: Path) -> tuple[list[Log], list[Log]]:
    """(BugSwarm failing logs, LogChunks logs with their labelled chunks), in a stable order."""
    bugswarm = [
        Log(f"bugswarm/{p.parent.name}", read_lines(p))
        for p in sorted((data / "bugswarm").glob("*/failing.log"))
    ]
    logs = data / "logchunks" / "logs"
    chunks = _chunks(data)
    logchunks = []
    for p in sorted(logs.rglob("*.log")):
        rel = p.relative_to(logs).as_posix()
        logchunks.append(Log(f"logchunks/{rel}", read_lines(p), chunks.get(rel, frozenset())))
    return bugswarm, logchunks
