"""Reading a log to analyze, with a clear refusal for what cannot be one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from recoverops.errors import (
    BinaryInputError,
    EmptyInputError,
    InputNotFoundError,
    InputTooLargeError,
)

_SNIFF = 8192
_VISIBLE = re.compile(rb"\S")
# Text logs carry tabs, newlines, carriage returns, ESC (colour codes), backspace and form feed.
_TEXT_CONTROLS = {0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x1B}


def decode_log(data: bytes, *, name: str) -> str:
    """The text of a log, or an InputError saying why these bytes are not one."""
    if _VISIBLE.search(data) is None:
        raise EmptyInputError(f"{name}: empty input, nothing to analyze")
    head = data[:_SNIFF]
    controls = sum(1 for b in head if b < 0x20 and b not in _TEXT_CONTROLS)
    if b"\0" in head or controls > len(head) // 10:
        raise BinaryInputError(f"{name}: binary data, not a text log")
    return data.decode("utf-8", errors="replace")


def read_stream(stream: BinaryIO, *, name: str, max_bytes: int, expected: int | None = None) -> str:
    """Read at most `max_bytes`; `expected` (a file's size) avoids reserving the whole limit."""
    want = max_bytes + 1 if expected is None else min(max_bytes, expected) + 1
    data = stream.read(want)
    if expected is not None and len(data) == want and len(data) <= max_bytes:
        data += stream.read(max_bytes + 1 - len(data))  # the file grew while we read it
    if len(data) > max_bytes:
        raise InputTooLargeError(f"{name}: larger than the {max_bytes:,}-byte limit")
    return decode_log(data, name=name)


def read_log(path: Path, *, max_bytes: int) -> str:
    try:
        return _read_log(path, max_bytes=max_bytes)
    except OSError as exc:
        # File name too long, too many symlinks, an I/O error: say which, never a traceback.
        raise InputNotFoundError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _read_log(path: Path, *, max_bytes: int) -> str:
    if not path.exists():
        raise InputNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise InputNotFoundError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputTooLargeError(
            f"{path}: {size:,} bytes, over the {max_bytes:,}-byte limit "
            "(RECOVEROPS_MAX_LOG_BYTES raises it)"
        )
    with path.open("rb") as stream:
        return read_stream(stream, name=str(path), max_bytes=max_bytes, expected=size)
