"""A small progress bar on standard error for the long steps of a training run.

No dependency (tqdm is not installed with MLflow here): on a terminal it redraws one line a few
times a second; elsewhere (a CI log, a file) it writes one line when the step is done, so logs
stay short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")

_WIDTH = 30
_REDRAW_S = 0.1

Progress = Callable[[Iterator[T], int], Iterator[T]]


def progress_bar(label: str, *, stream: TextIO | None = None) -> Progress[T]:
    """A wrapper for `featurize(progress=…)`: yields the items unchanged while drawing."""

    def wrap(items: Iterator[T], total: int) -> Iterator[T]:
        out = stream if stream is not None else sys.stderr
        live = out.isatty()
        started = last = time.monotonic()
        done = 0
        for item in items:
            done += 1
            now = time.monotonic()
            if live and (now - last >= _REDRAW_S or done == total):
                filled = _WIDTH * done // max(total, 1)
                out.write(
                    f"\r{label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {done}/{total}"
                    f" {now - started:.1f}s"
                )
                out.flush()
                last = now
            yield item
        elapsed = time.monotonic() - started
        out.write(("\r\x1b[K" if live else "") + f"{label}: {done}/{total} in {elapsed:.1f}s\n")
        out.flush()

    return wrap


def note(message: str, *, stream: TextIO | None = None) -> None:
    """One line about the step that starts now."""
    out = stream if stream is not None else sys.stderr
    out.write(f"{message}\n")
    out.flush()
