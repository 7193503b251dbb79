"""The test side's lines, as hashes: what `tests/unit/classify/test_sides.py` checks quotes against.

The shared corpora (BugSwarm, LogChunks) are not in the repository, yet a fresh clone's tests must
still refuse a signature example or a fixture that quotes a test-side log. So the test reads this
digest instead: an 8-byte BLAKE2b hash of every line (at least `MIN_CHARS` long, whitespace
collapsed; as printed and as the detector cleans it, timestamps off) of the logs of test-side
projects that no dev or validation log also prints (those, like "BUILD FAILURE", say nothing about
a project). Hashes, not lines: nothing of the test side is copied into the repository.

    .venv/bin/python -m tests.side_lines [--data ../shared/data]   # write the digest again

Run it again whenever `recoverops/sides.py` or the corpora change.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
from pathlib import Path

from recoverops.logs.document import clean_line
from recoverops.sides import side_of

ROOT = Path(__file__).resolve().parents[1]
DIGEST = ROOT / "tests" / "fixtures" / "test_side_lines.b2"
MIN_CHARS = 16
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def line_key(line: str) -> str:
    """A line as the digest hashes it: whitespace collapsed."""
    return " ".join(line.split())


def line_keys(raw: str) -> set[str]:
    """The keys of a raw log line: each text it writes between carriage returns, and the line as
    the detector cleans it."""
    keys = {line_key(_ANSI.sub("", part)) for part in raw.split("\r")}
    keys.add(line_key(clean_line(raw)))
    return {k for k in keys if len(k) >= MIN_CHARS}


def line_hash(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()


def _logs(data: Path) -> list[tuple[str, Path]]:
    """(project, log path) of every BugSwarm failing/passing log and every LogChunks log."""
    found = []
    with (data / "bugswarm" / "index.csv").open(encoding="utf-8") as index:
        rows = list(csv.DictReader(index))
    for row in rows:
        for name in ("failing.log", "passing.log"):
            path = data / "bugswarm" / row["artifact"] / name
            if path.is_file():
                found.append((row["project"], path))
    logs = data / "logchunks" / "logs"
    for path in sorted(logs.rglob("*.log")):
        found.append((path.relative_to(logs).parts[1], path))
    return found


def test_side_keys(data: Path) -> set[str]:
    """The keys of the shared corpora's test-side lines that no other side prints."""
    test: set[str] = set()
    other: set[str] = set()
    for project, path in _logs(data):
        bucket = test if side_of(project) == "test" else other
        for raw in path.read_bytes().decode("utf-8", errors="replace").split("\n"):
            bucket |= line_keys(raw)
    return test - other


def read_digest(path: Path = DIGEST) -> set[bytes]:
    raw = path.read_bytes()
    return {raw[i : i + 8] for i in range(0, len(raw), 8)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    if not (args.data / "bugswarm" / "index.csv").is_file():
        print(f"no corpus at {args.data}: pass --data", file=sys.stderr)
        return 2
    hashes = sorted({line_hash(k) for k in test_side_keys(args.data)})
    DIGEST.write_bytes(b"".join(hashes))
    print(f"{len(hashes)} test-side lines hashed into {DIGEST.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
