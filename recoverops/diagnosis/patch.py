"""Unified diffs: made from a file's old and new text, and applied back strictly.

Applying is strict on purpose: every context and removed line must be where the hunk says (or,
as `patch` allows, the same block a few lines away); a hunk that does not fit is refused, never
fuzzed into a file it was not made for.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from recoverops.errors import RecoverOpsError

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
# How far from the hunk's stated line its block may be found (lines added or removed above it).
OFFSET = 50


class PatchError(RecoverOpsError, ValueError):
    """A diff that does not parse or does not apply to the text given."""


@dataclass(frozen=True, slots=True)
class FileDiff:
    old_path: str
    new_path: str
    hunks: tuple[tuple[int, tuple[str, ...]], ...]  # (old start, lines with their ' ', '-', '+')
    # Whether the new text ends with a newline, when a hunk reaches its end ("\ No newline").
    new_ends_with_newline: bool | None = None


def make_diff(path: str, old: str, new: str) -> str:
    """The unified diff of one file, with `a/` and `b/` prefixes as git writes them."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def parse(diff: str) -> list[FileDiff]:
    files: list[FileDiff] = []
    lines = diff.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("--- "):
            index += 1
            continue
        if index + 1 >= len(lines) or not lines[index + 1].startswith("+++ "):
            raise PatchError(f"line {index + 1}: '---' without '+++'")
        old_path = _strip(lines[index][4:])
        new_path = _strip(lines[index + 1][4:])
        index += 2
        hunks: list[tuple[int, tuple[str, ...]]] = []
        new_newline: bool | None = None
        while index < len(lines) and lines[index].startswith("@@"):
            header = _HUNK.match(lines[index])
            if header is None:
                raise PatchError(f"line {index + 1}: bad hunk header {lines[index]!r}")
            old_count = int(header[2]) if header[2] is not None else 1
            new_count = int(header[4]) if header[4] is not None else 1
            index += 1
            body: list[str] = []
            seen_old = seen_new = 0
            while index < len(lines) and (seen_old < old_count or seen_new < new_count):
                line = lines[index]
                tag = line[:1] or " "
                if tag == "\\":
                    new_newline = _newline_after(body, new_newline)
                    index += 1
                    continue
                if tag not in " -+":
                    raise PatchError(f"line {index + 1}: not a hunk line {line!r}")
                seen_old += tag in " -"
                seen_new += tag in " +"
                body.append(tag + line[1:])
                index += 1
            if seen_old != old_count or seen_new != new_count:
                raise PatchError(f"hunk at old line {header[1]} is shorter than its header says")
            while index < len(lines) and lines[index].startswith("\\"):
                new_newline = _newline_after(body, new_newline)
                index += 1
            hunks.append((int(header[1]), tuple(body)))
        if not hunks:
            raise PatchError(f"no hunks for {new_path}")
        files.append(FileDiff(old_path, new_path, tuple(hunks), new_newline))
    if not files:
        raise PatchError("no file in the diff")
    return files


def _newline_after(body: list[str], said: bool | None) -> bool | None:
    """What a "\\ No newline at end of file" marker after the body's last line says of the new
    text: it lacks the final newline when that line is in it; it has one when only the old
    text's last line (a removed one) lacked it."""
    if not body:
        return said
    return False if body[-1][0] in " +" else True


def _strip(name: str) -> str:
    name = name.split("\t", 1)[0].strip()
    return name[2:] if name[:2] in ("a/", "b/") else name


def apply(file: FileDiff, text: str) -> str:
    """`text` with the file's hunks applied; PatchError when a hunk does not fit."""
    lines = text.splitlines()
    trailing_newline = text.endswith("\n") or not text
    out: list[str] = []
    position = 0  # next line of `lines` not yet copied
    for start, body in file.hunks:
        old = [line[1:] for line in body if line[0] in " -"]
        new = [line[1:] for line in body if line[0] in " +"]
        at = _find(lines, old, max(position, start - 1 if old else start), lo=position)
        if at is None:
            raise PatchError(f"{file.new_path}: the hunk at line {start} does not apply")
        out.extend(lines[position:at])
        out.extend(new)
        position = at + len(old)
    out.extend(lines[position:])
    if file.new_ends_with_newline is not None and position == len(lines):
        trailing_newline = file.new_ends_with_newline
    result = "\n".join(out)
    return result + "\n" if trailing_newline and out else result


def _find(lines: list[str], block: list[str], near: int, *, lo: int) -> int | None:
    if not block:
        return min(max(near, lo), len(lines))
    for distance in range(OFFSET + 1):
        for at in (near - distance, near + distance) if distance else (near,):
            if lo <= at <= len(lines) - len(block) and lines[at : at + len(block)] == block:
                return at
    return None
