"""From signature hits to a category and a confidence that means something.

A hit counts by where its line sits: in the failure chunk it counts fully, elsewhere in the
failing step it counts half, and anywhere else in the window barely (a Maven log mentions
"checkstyle" in every build; only the chunk says checkstyle failed this one). A signature counts
once per location class, so fifty copies of one warning do not outvote one compiler error.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from recoverops.analysis import SignatureHit
from recoverops.classify.catalogue import Catalogue, Signature
from recoverops.taxonomy import Category

LOCATION_FACTOR: dict[str, float] = {"chunk": 1.0, "command": 0.8, "step": 0.5, "log": 0.15}
# Below this much evidence the honest answer is `unknown`.
MIN_SCORE = 1.0
# A symptom's hit counts this much of its weight when a cause (a hit that is not a symptom) is
# in the failure chunk or step: the OOMKilled reason decides, not the BackOff event it caused.
SYMPTOM_FACTOR = 0.25
CAUSE_LOCATIONS = frozenset({"chunk", "step", "command"})
# Extra copies of the same signature add a little (a list of ten failing tests is more certain
# than one), with diminishing returns.
REPEAT_BONUS = 0.15


def trie_pattern(words: Iterable[str]) -> str:
    """One regex for many literals, shaped as a trie so that `re` tries each character once
    instead of every literal at every position; it matches the longest literal at a position."""
    trie: dict[str, dict[str, Any]] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return f"(?:{body})?"
        return body

    return build(trie) or r"(?!)"


@dataclass(frozen=True)
class SignatureMatcher:
    """The catalogue compiled for fast matching: a line is only tried against the signatures
    whose keywords it contains."""

    catalogue: Catalogue

    @cached_property
    def _index(self) -> dict[str, tuple[Signature, ...]]:
        """Each keyword with the signatures of every keyword that is a prefix of it: the trie
        finds the longest keyword at a position, and its prefixes are there too."""
        direct = self.catalogue.by_keyword()
        # A keyword's prefixes are looked up, not every keyword compared with every other
        # (2,600 keywords made that 7 million comparisons, a third of a second per process);
        # taken in the catalogue's keyword order, as the signatures' order depends on it.
        rank = {keyword: i for i, keyword in enumerate(direct)}
        index = {}
        for keyword in direct:
            prefixes = sorted(
                (keyword[:end] for end in range(1, len(keyword) + 1) if keyword[:end] in rank),
                key=rank.__getitem__,
            )
            index[keyword] = tuple(dict.fromkeys(s for k in prefixes for s in direct[k]))
        return index

    @cached_property
    def _finder(self) -> re.Pattern[str]:
        # A lookahead finds a keyword starting at every position, overlapping ones included.
        return re.compile(f"(?=({trie_pattern(self._index)}))")

    @cached_property
    def _noise(self) -> re.Pattern[str] | None:
        patterns = [f"(?:{n.regex.pattern})" for n in self.catalogue.noise]
        return re.compile("|".join(patterns)) if patterns else None

    def is_noise(self, line: str) -> bool:
        return self._noise is not None and self._noise.search(line) is not None

    def match_line(self, line: str, lower: str) -> list[Signature]:
        tried: set[str] = set()
        found: list[Signature] = []
        # In the order the keywords appear: a set's order changes with the hash seed, and with
        # it which of two signatures on one line led the summary from one process to the next.
        for keyword in dict.fromkeys(m.group(1) for m in self._finder.finditer(lower)):
            for signature in self._index[keyword]:
                if signature.id not in tried:
                    tried.add(signature.id)
                    if signature.search(line):
                        found.append(signature)
        return found

    def match_command(self, command: str) -> list[Signature]:
        lower = command.lower()
        return [
            s
            for s in self.catalogue.commands
            if any(k in lower for k in s.keywords) and s.search(command)
        ]


def category_scores(hits: Iterable[SignatureHit]) -> dict[Category, float]:
    hits = list(hits)
    caused = any(not h.symptom and h.location in CAUSE_LOCATIONS for h in hits)
    best: dict[tuple[str, str], float] = {}
    copies: dict[tuple[str, str], int] = defaultdict(int)
    category_of: dict[str, Category] = {}
    for hit in hits:
        key = (hit.signature, hit.location)
        value = hit.weight * LOCATION_FACTOR[hit.location]
        if hit.symptom and caused:
            value *= SYMPTOM_FACTOR
        best[key] = max(best.get(key, 0.0), value)
        copies[key] += 1
        category_of[hit.signature] = hit.category
    scores: dict[Category, float] = defaultdict(float)
    for key, value in best.items():
        bonus = 1.0 + REPEAT_BONUS * math.log(copies[key])
        scores[category_of[key[0]]] += value * bonus
    return dict(scores)


def decide(scores: dict[Category, float]) -> tuple[Category, float]:
    """The winning category and how likely it is right, from the score and the margin."""
    # Ties go by the category's name: the scores' order comes from sets of hits, and a verdict
    # must not depend on the interpreter's hash seed.
    ranked: Sequence[tuple[Category, float]] = sorted(
        scores.items(), key=lambda kv: (-kv[1], kv[0].value)
    )
    top, top_score = ranked[0] if ranked else (Category.UNKNOWN, 0.0)
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if top_score < MIN_SCORE:
        # Confidence that nothing known explains it: high when nothing matched at all.
        return Category.UNKNOWN, round(1.0 - 0.5 * top_score / MIN_SCORE, 3)
    share = top_score / (top_score + runner_up + 1.0)
    strength = 1.0 - math.exp(-top_score / 3.0)
    return top, round(share * strength, 3)
