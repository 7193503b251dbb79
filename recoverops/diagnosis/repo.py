"""A checkout of the failing repository (`--repo PATH`): which files exist, and their text.

Paths a log prints are resolved against it by their longest suffix that is a file of the
checkout (`/home/travis/build/o/r/m/src/A.java` and `src/A.java` both find `m/src/A.java`).
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from pathlib import Path

# Folders that are never the project's own source.
_SKIP = frozenset(
    {".git", "node_modules", ".venv", "venv", "target", "build", "dist", "__pycache__", ".tox"}
)
MAX_FILES = 200_000
MAX_FILE_BYTES = 2_000_000


class Checkout:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.files = self._list()
        self._by_name: dict[str, list[str]] = defaultdict(list)
        for path in self.files:
            self._by_name[path.rsplit("/", 1)[-1]].append(path)

    def _list(self) -> tuple[str, ...]:
        try:
            listed = subprocess.run(
                ["git", "-C", str(self.root), "ls-files", "-z"],
                capture_output=True,
                check=True,
                timeout=30,
            ).stdout.decode("utf-8", errors="replace")
            files = [f for f in listed.split("\0") if f]
            if files:
                return tuple(sorted(files)[:MAX_FILES])
        except (OSError, subprocess.SubprocessError):
            pass
        found: list[str] = []
        for path in self.root.rglob("*"):
            relative = path.relative_to(self.root)
            if any(part in _SKIP for part in relative.parts) or not path.is_file():
                continue
            found.append(relative.as_posix())
            if len(found) >= MAX_FILES:
                break
        return tuple(sorted(found))

    def resolve(self, path: str) -> str | None:
        """The checkout's file that `path` names, by the longest matching suffix; None if none
        or if several files match equally well."""
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts:
            return None
        candidates = self._by_name.get(parts[-1], [])
        best: list[str] = []
        best_length = 0
        for candidate in candidates:
            theirs = candidate.split("/")
            length = 0
            while (
                length < min(len(parts), len(theirs)) and parts[-1 - length] == theirs[-1 - length]
            ):
                length += 1
            if length > best_length:
                best, best_length = [candidate], length
            elif length == best_length:
                best.append(candidate)
        return best[0] if len(best) == 1 else None

    def named(self, name: str) -> list[str]:
        """Files with this base name, shallowest first."""
        return sorted(self._by_name.get(name, []), key=lambda p: (p.count("/"), p))

    def read(self, path: str) -> str | None:
        file = (self.root / path).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        if file.stat().st_size > MAX_FILE_BYTES:
            return None
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
