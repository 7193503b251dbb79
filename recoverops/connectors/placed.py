"""Job logs placed on disk: `recoverops replay PAYLOAD --log FILE` puts a job's log where the
running system looks first, so that a recorded delivery is analyzed with its real log and no CI
account.

A placed log lives at `RECOVEROPS_HOME/placed-logs/<source>/<project>/<job>.log`, the project
and job percent-encoded into one safe file name each (a payload is untrusted: its names never
become a path of their own). When a job has a placed log it is read through the same base
runner as a downloaded one (size bound, decoding, redaction); when it has none, the CI system's
own source is asked, as always.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from recoverops.connectors.base import (
    BaseLogSource,
    Failure,
    JobRef,
    LogResult,
    LogSource,
    TailBuffer,
)

FOLDER = "placed-logs"
_CHUNK = 64 * 1024


def placed_path(home: Path, ref: JobRef) -> Path | None:
    """Where the log of `ref` is placed under `home`; None for names that cannot be a file."""
    parts = [quote(part, safe="") for part in (ref.source, ref.project, ref.job)]
    if any(part in {"", ".", ".."} for part in parts):
        return None
    source, project, job = parts
    return home / FOLDER / source / project / f"{job}.log"


class PlacedLogs(BaseLogSource):
    """The logs placed under one home."""

    name = "placed log"

    def __init__(self, home: Path, *, max_bytes: int) -> None:
        super().__init__(max_bytes=max_bytes)
        self._home = home

    def has(self, ref: JobRef) -> bool:
        path = placed_path(self._home, ref)
        return path is not None and path.is_file()

    def _precheck(self, ref: JobRef) -> str | None:
        return None if self.has(ref) else f"no log placed for {ref.source} job {ref.job}"

    def _attempt(self, ref: JobRef, sink: TailBuffer) -> Failure | None:
        path = placed_path(self._home, ref)
        assert path is not None  # _precheck saw to it
        try:
            with path.open("rb") as placed:
                while chunk := placed.read(_CHUNK):
                    sink.write(chunk)
        except OSError as error:
            return Failure(f"the placed log cannot be read ({error.strerror or error})")
        return None


class PlacedFirst:
    """A CI system's log source that first looks for a placed log of the job."""

    def __init__(self, placed: PlacedLogs, source: LogSource) -> None:
        self._placed = placed
        self._source = source

    def fetch(self, ref: JobRef) -> LogResult:
        return self._placed.fetch(ref) if self._placed.has(ref) else self._source.fetch(ref)
