"""Nothing the catalogue or the fixtures quote comes from a test-side project (`recoverops.sides`).

The test side is read in aggregate only: a signature example or a fixture that quotes one of its
lines would let the engine learn the very text its figures are reported on. Test-side lines come
from two places: the labelled corpus in the repository (`corpus/`, read here), and the shared
corpora (BugSwarm, LogChunks), which a fresh clone does not have, through the digest of their
test-side lines (`tests/fixtures/test_side_lines.b2`, hashes written by `python -m
tests.side_lines`). A line that some dev or validation text prints too says nothing about a
project ("BUILD FAILURE") and may be quoted.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

import recoverops.classify
from recoverops.sides import side_of
from tests.ml_corpus import CASES, case_project
from tests.side_lines import DIGEST, MIN_CHARS, line_hash, line_key, line_keys, read_digest

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared" / "data"
SIGNATURES = Path(recoverops.classify.__file__).resolve().parent / "signatures"


@dataclass(frozen=True)
class CorpusLines:
    """The corpus's lines that only test-side texts print, and every other side's lines."""

    test_only: frozenset[str]
    elsewhere: frozenset[str]

    def quotes(self, key: str) -> bool:
        """Whether `key` is, or (long enough to tell) is part of, a test-side-only line."""
        if key in self.test_only:
            return True
        if len(key) < 2 * MIN_CHARS:
            return False
        inside = [line for line in self.test_only if key in line]
        return bool(inside) and not any(key in line for line in self.elsewhere)


@cache
def corpus_lines() -> CorpusLines:
    test: set[str] = set()
    other: set[str] = set()
    for labels in CORPUS.glob("*/labels*.csv"):
        with labels.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text = (labels.parent / row["file"]).read_bytes().decode("utf-8", "replace")
                bucket = test if side_of(row["group"]) == "test" else other
                for raw in text.split("\n"):
                    bucket |= line_keys(raw)
    return CorpusLines(test_only=frozenset(test - other), elsewhere=frozenset(other))


@cache
def digest() -> frozenset[bytes]:
    return frozenset(read_digest())


def quotes_test_side(line: str) -> bool:
    key = line_key(line)
    return line_hash(key) in digest() or corpus_lines().quotes(key)


def catalogue_quotes() -> Iterator[tuple[str, str]]:
    """(where, line) of every example and counter-example in the shipped catalogue."""
    for path in sorted(SIGNATURES.glob("*.yaml")):
        document = yaml.safe_load(path.read_text("utf-8")) or {}
        for section in ("signatures", "commands", "noise"):
            for entry in document.get(section) or []:
                for field in ("examples", "counter_examples"):
                    for line in entry.get(field) or []:
                        yield f"{path.name}: {entry['id']} {field}", line


def test_the_digest_holds_the_shared_corpora_test_side() -> None:
    hashes = DIGEST.read_bytes()
    assert hashes and len(hashes) % 8 == 0
    if (SHARED / "bugswarm" / "index.csv").is_file():
        from tests.side_lines import test_side_keys

        fresh = {line_hash(k) for k in test_side_keys(SHARED)}
        assert fresh == set(digest()), "run `python -m tests.side_lines` again"


def test_a_quote_of_a_test_side_text_is_caught() -> None:
    """The check can fail: a line only a test-side corpus text prints is caught, whole or in part,
    and a line every side prints is not."""
    line = max(corpus_lines().test_only, key=len)
    assert quotes_test_side(line)
    assert quotes_test_side(f"  {line[len(line) // 3 :]}")
    common = next(iter(corpus_lines().elsewhere))
    assert not quotes_test_side(common)


def test_no_signature_example_quotes_a_test_side_line() -> None:
    quoted = [f"{where}: {line!r}" for where, line in catalogue_quotes() if quotes_test_side(line)]
    assert not quoted, "signature examples from test-side projects:\n" + "\n".join(quoted)


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_no_fixture_case_comes_from_a_test_side_project(case: str) -> None:
    """A case's `source` says where its text came from, so its lines are that project's: a line it
    shares with a test-side corpus text is one both print. Only the shared corpora's test side,
    whose lines are hashed, is checked line by line."""
    meta = yaml.safe_load((CASES / case / "case.yaml").read_text("utf-8"))
    project = case_project(str(meta.get("source", "")), case)
    assert side_of(project) != "test", f"{case} comes from {project}, a test-side project"
    text = (CASES / case / "log.txt").read_bytes().decode("utf-8", "replace")
    quoted = [line for line in text.split("\n") if line_hash(line_key(line)) in digest()]
    assert not quoted, f"{case} quotes test-side lines: {quoted[:3]}"
