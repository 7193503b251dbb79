"""Log templates: mask the variable parts of a line, then group lines with Drain.

A *template* is a line with its variable parts replaced: first by `mask` (typed tokens such as
`<NUM>` or `<HEX>` for shapes a regex can recognise), then by the miner (`<*>` where lines of one
cluster differ). The analyzer mines a window of a log to learn which lines are boilerplate (large
clusters) and which are telling (rare ones), and uses template ids to fingerprint a failure.

`TemplateMiner` is the Drain algorithm (He et al., "Drain: An Online Log Parsing Approach with
Fixed Depth Tree", ICWS 2017) with the parameters of the Drain3 library, plus three changes:
an exact repeat of a masked line skips the tree (logs repeat themselves a lot), `match` looks in
both the exact and the wildcard branch of the tree (so a line that was added is always found), and
lines are cut to `MAX_LINE_CHARS` to bound the cost of pathological lines.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "MASK_PATTERNS",
    "MAX_LINE_CHARS",
    "WILDCARD",
    "Template",
    "TemplateMiner",
    "count_templates",
    "mask",
    "mine",
    "template_id",
]

WILDCARD = "<*>"
# Longer lines are cut: their first 4 KiB tell their template, and this bounds the per-line cost
# of a minified bundle or a progress bar printed on one line.
MAX_LINE_CHARS = 4096

_HEXC = "[0-9a-fA-F]"
# (token, needs, regex), applied in this order: a longer shape goes before the shapes it contains
# (a timestamp before its numbers, a temporary path before its digits). `needs` is a character a
# match must contain: a regex is only run on the tokens that have it, since `in` is far cheaper
# than a scan. Public so that another miner (the benchmark's Drain3) can be given the same masks.
MASK_PATTERNS: tuple[tuple[str, str, str], ...] = (
    # A quoted string with whitespace in it (a message, a command) would split into a varying
    # number of tokens, which Drain can never generalise: the token count is the first level of
    # its tree. One-word quotes ('numpy', "pom.xml") stay: they name things and are one token.
    ("<STR>", "", r"""(?<![\w'"])(?:"[^"\n]*\s[^"\n]*"|'[^'\n]*\s[^'\n]*')(?![\w'"])"""),
    # Temporary directories: random names chosen by mktemp, pytest, pip, the JDK, macOS, Windows.
    ("<TMP>", "/", r"/(?:private/)?(?:tmp|var/tmp|var/folders/[^\s/]+/[^\s/]+/T)/[^\s/'\":;,)\]]+"),
    ("<TMP>", "\\", r"[A-Za-z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp\\[^\\\s'\":;,)\]]+"),
    (
        "<TS>",
        ":",
        r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b"
        r"|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b",
    ),
    ("<TS>", "-", r"\b\d{4}-\d{2}-\d{2}\b"),
    ("<UUID>", "-", rf"\b{_HEXC}{{8}}-(?:{_HEXC}{{4}}-){{3}}{_HEXC}{{12}}\b"),
    ("<IP>", ".", r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\w)"),
    # Hashes and ids: 7+ hex digits with at least one digit and one letter, so that words made
    # of the letters a-f ("defaced") and plain numbers (left to <NUM>) are not taken.
    ("<HEX>", "", rf"\b0[xX]{_HEXC}+\b|\b(?=[a-fA-F]*\d)(?=\d*[a-fA-F]){_HEXC}{{7,}}\b"),
    ("<DUR>", "", r"(?<![\w.])\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|min|mins|m|h)\b"),
    ("<SIZE>", "B", r"(?<![\w.])\d+(?:\.\d+)?(?:[kKMGT]i?B|B)\b"),
    # Integers, decimals and versions (a version bump must not change a template). Only whole
    # words: "log4j", "x86_64" and "python3" keep their digits, `Foo.java:42` keeps its file name,
    # "dom4j-1.1.jar" becomes "dom4j-<NUM>.jar". The atomic group keeps "2.2.0p0" whole.
    ("<NUM>", "", r"(?<![\w.])[vV]?(?>\d+(?:\.\d+)*)(?!\w)"),
)
_STR = re.compile(MASK_PATTERNS[0][2])
_MASKS = tuple((re.compile(rx), token, needs) for token, needs, rx in MASK_PATTERNS[1:])
# Which masks can apply to a token, by what it holds: most tokens with a digit are numbers with
# punctuation ("(60/222)", "27%") which only the letter-free shapes can match.
_NO_DIGIT = tuple(m for m in _MASKS if m[1] == "<TMP>")
_NO_LETTER = tuple(m for m in _MASKS if m[1] in ("<TS>", "<IP>", "<NUM>"))
_HAS_DIGIT = re.compile(r"\d").search


def _mask_token(token: str) -> str:
    if token.isdecimal():
        masks: tuple[tuple[re.Pattern[str], str, str], ...] = ()
        token = "<NUM>"  # the commonest case, and what the patterns would give
    elif not _HAS_DIGIT(token):
        masks = _NO_DIGIT
    elif token.lower() == token.upper():  # no cased letter: cheaper than a regex search
        masks = _NO_LETTER
    else:
        masks = _MASKS
    for regex, replacement, needs in masks:
        if needs in token:
            token = regex.sub(replacement, token)
    return token


def _split(line: str) -> list[str]:
    line = line[:MAX_LINE_CHARS]
    if '"' in line or "'" in line:
        line = _STR.sub("<STR>", line)
    return line.split()


def mask(line: str) -> str:
    """The line with its variable parts replaced by typed tokens (`<NUM>`, `<HEX>`, ...) and its
    whitespace collapsed to single spaces, as Drain sees it; cut to `MAX_LINE_CHARS` first.

    Quoted strings are masked on the whole line; the other `MASK_PATTERNS` never span a space, so
    they are applied to each token, and only to tokens that can hold them (with a digit, or a
    path separator for `<TMP>`): most tokens are plain words that no regex needs to scan.
    """
    return " ".join(map(_mask_token, _split(line)))


class _TokenCache(dict[str, str]):
    """Token -> masked token. A log repeats its words, so a miner masks each distinct token once."""

    def __missing__(self, token: str) -> str:
        if len(self) >= 1 << 16:
            self.clear()  # a bound on memory; the cache only saves time
        masked = self[token] = _mask_token(token)
        return masked


def template_id(template: str) -> str:
    """A stable 12-hex-digit id of a template text: the same in every process and release."""
    return hashlib.sha1(template.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Template:
    """A snapshot of one cluster of lines: its template when taken, and the lines seen so far.

    `id` is the `template_id` of `text`, so it changes when a later line makes the template more
    general (a token becomes `<*>`). Keep the `Template` that `mine` gives for each line, or ask
    `match` after mining, to get the id of the final template.
    """

    id: str
    text: str
    size: int


class _Cluster:
    __slots__ = ("key", "tokens", "text", "id", "size", "wildcards", "leaf", "alive")

    def __init__(self, key: int, tokens: tuple[str, ...], leaf: list[_Cluster]) -> None:
        self.key = key
        self.tokens = tokens
        self.text = " ".join(tokens)
        self.id = template_id(self.text)
        self.size = 1
        self.wildcards = 0
        self.leaf = leaf  # the tree leaf that lists it, to drop it from there when evicted
        self.alive = True

    def snapshot(self) -> Template:
        return Template(id=self.id, text=self.text, size=self.size)

    def generalise(self, tokens: list[str]) -> None:
        merged = tuple(t if t == s else WILDCARD for t, s in zip(self.tokens, tokens, strict=True))
        if merged != self.tokens:
            self.tokens = merged
            self.text = " ".join(merged)
            self.id = template_id(self.text)
            self.wildcards = merged.count(WILDCARD)


def _wildcards(cluster: _Cluster) -> int:
    return cluster.wildcards


class _Node:
    __slots__ = ("children", "clusters")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.clusters: list[_Cluster] = []


class TemplateMiner:
    """Drain: lines are routed by token count, then by their first tokens (a token without a
    branch of its own takes the `<*>` branch), to a leaf of the tree; a line joins the leaf's most
    similar cluster if at least `similarity` of its tokens equal the template's, and generalises
    that template; otherwise it starts a new cluster.

    `depth` counts the tree's levels as Drain3 does (root, token count, prefix tokens, leaf), so
    the default 4 routes by the first token. A token with a digit, or one arriving when a node
    already has `max_children` children, goes down the `<*>` branch. With `max_clusters`, the
    least recently used cluster is forgotten when a new one would exceed it. A miner is not
    thread-safe: give each thread (each log window) its own.
    """

    # An exact-repeat cache larger than this is dropped and rebuilt: it only saves time.
    _SEEN_LIMIT = 1 << 16

    def __init__(
        self,
        *,
        similarity: float = 0.5,
        depth: int = 4,
        max_children: int = 100,
        max_clusters: int | None = None,
    ) -> None:
        if not 0.0 <= similarity <= 1.0:
            raise ValueError(f"similarity must be within [0, 1], got {similarity}")
        if depth < 3:
            raise ValueError(f"depth must be at least 3, got {depth}")
        if max_children < 2:
            raise ValueError(f"max_children must be at least 2, got {max_children}")
        if max_clusters is not None and max_clusters < 1:
            raise ValueError(f"max_clusters must be positive, got {max_clusters}")
        self._similarity = similarity
        self._prefix = depth - 3
        self._max_children = max_children
        self._max_clusters = max_clusters
        self._root: dict[int, _Node] = {}
        # Insertion order is creation order; with max_clusters it is kept in least-recent order.
        self._clusters: OrderedDict[int, _Cluster] = OrderedDict()
        self._created = 0
        self._seen: dict[str, _Cluster] = {}
        self._masked = _TokenCache()

    @property
    def templates(self) -> list[Template]:
        """The clusters alive now, oldest first (least recently used first with max_clusters)."""
        return [cluster.snapshot() for cluster in self._clusters.values()]

    def __len__(self) -> int:
        return len(self._clusters)

    def add(self, line: str) -> Template:
        """Put the line in its cluster (a new one if none is similar enough) and return that
        cluster after the line updated it."""
        return self._add(line).snapshot()

    def match(self, line: str) -> Template | None:
        """The most specific known template that covers the line (every token not `<*>` is equal),
        or None. Nothing changes. Every line given to `add` is covered by its cluster's template
        as long as that cluster has not been evicted."""
        tokens = list(map(self._masked.__getitem__, _split(line)))
        seen = self._seen.get(" ".join(tokens))
        if seen is not None and seen.alive:
            return seen.snapshot()
        node = self._root.get(len(tokens))
        if node is None:
            return None
        best: _Cluster | None = None
        for cluster in self._candidates(node, tokens, 0):
            covered = all(t in (s, WILDCARD) for t, s in zip(cluster.tokens, tokens, strict=True))
            if covered and (best is None or cluster.wildcards < best.wildcards):
                best = cluster
        return None if best is None else best.snapshot()

    def observe(self, line: str) -> tuple[int, Template, bool]:
        """Count the line in the most specific cluster that covers it, else `add` it: (the
        cluster's key, stable while it lives; its template; whether the line made a new
        cluster). Covering first keeps a restored template (`<*>` tokens) the line's home even
        when too few of its tokens are equal for Drain's similarity to pick it."""
        tokens = list(map(self._masked.__getitem__, _split(line)))
        seen = self._seen.get(" ".join(tokens))
        best = seen if seen is not None and seen.alive else None
        node = self._root.get(len(tokens)) if best is None else None
        if node is not None:
            for cluster in self._candidates(node, tokens, 0):
                covered = all(
                    t in (s, WILDCARD) for t, s in zip(cluster.tokens, tokens, strict=True)
                )
                if covered and (best is None or cluster.wildcards < best.wildcards):
                    best = cluster
        if best is not None:
            best.size += 1
            if self._max_clusters is not None:
                self._clusters.move_to_end(best.key)
            return best.key, best.snapshot(), False
        created = self._created
        cluster = self._add(line)
        return cluster.key, cluster.snapshot(), self._created != created

    def _add(self, line: str) -> _Cluster:
        tokens = list(map(self._masked.__getitem__, _split(line)))
        masked = " ".join(tokens)
        cluster = self._seen.get(masked)
        if cluster is not None and cluster.alive:
            # An exact repeat: the template already covers it, only the count changes.
            cluster.size += 1
            if self._max_clusters is not None:
                self._clusters.move_to_end(cluster.key)
            return cluster
        leaf = self._search(tokens)
        cluster = None if leaf is None else self._best(leaf, tokens)
        if cluster is None:
            cluster = self._create(tokens, self._leaf(tokens))
        else:
            cluster.generalise(tokens)
            cluster.size += 1
            if self._max_clusters is not None:
                self._clusters.move_to_end(cluster.key)
        if len(self._seen) >= self._SEEN_LIMIT:
            self._seen.clear()
        self._seen[masked] = cluster
        return cluster

    def _search(self, tokens: list[str]) -> list[_Cluster] | None:
        """The leaf Drain looks in: at each prefix level the token's own branch, else `<*>`."""
        node = self._root.get(len(tokens))
        for token in tokens[: self._prefix]:
            if node is None:
                break
            node = node.children.get(token) or node.children.get(WILDCARD)
        return None if node is None else node.clusters

    def _leaf(self, tokens: list[str]) -> list[_Cluster]:
        """The leaf a new cluster goes to, creating the path if needed (Drain's tree insert)."""
        node = self._root.get(len(tokens))
        if node is None:
            node = self._root[len(tokens)] = _Node()
        for token in tokens[: self._prefix]:
            children = node.children
            child = children.get(token)
            if child is None:
                # Tokens with digits are likely variables: they all share the wildcard branch,
                # as do newcomers once the node is full, so the tree stays small.
                full = len(children) >= self._max_children - (WILDCARD not in children)
                if full or _HAS_DIGIT(token):
                    child = children.get(WILDCARD)
                    if child is None:
                        child = children[WILDCARD] = _Node()
                else:
                    child = children[token] = _Node()
            node = child
        return node.clusters

    def _best(self, leaf: list[_Cluster], tokens: list[str]) -> _Cluster | None:
        """Drain's fast match: the most similar cluster of the leaf, ties going to the one with
        more wildcards, if similar enough. Wildcard positions do not count as similar."""
        if not tokens:
            return leaf[0] if leaf else None
        # One pass in C per cluster (a comprehension, not a loop) and the tie-break only among
        # the best: this scan is where Drain spends its time.
        same = [sum(map(str.__eq__, cluster.tokens, tokens)) for cluster in leaf]
        most = max(same, default=-1)
        if most < self._similarity * len(tokens):
            return None
        best = [cluster for cluster, n in zip(leaf, same, strict=True) if n == most]
        return max(best, key=_wildcards) if len(best) > 1 else best[0]

    def _create(self, tokens: list[str], leaf: list[_Cluster]) -> _Cluster:
        self._created += 1
        cluster = _Cluster(self._created, tuple(tokens), leaf)
        leaf.append(cluster)
        self._clusters[cluster.key] = cluster
        if self._max_clusters is not None and len(self._clusters) > self._max_clusters:
            _, oldest = self._clusters.popitem(last=False)
            oldest.alive = False
            oldest.leaf.remove(oldest)
        return cluster

    def _candidates(self, node: _Node, tokens: list[str], level: int) -> Iterable[_Cluster]:
        """All clusters a line could sit under: both the exact and the wildcard child at each
        prefix level, since the branch a line took when added may differ from today's."""
        if level == min(self._prefix, len(tokens)):
            yield from node.clusters
            return
        for key in dict.fromkeys((tokens[level], WILDCARD)):
            child = node.children.get(key)
            if child is not None:
                yield from self._candidates(child, tokens, level + 1)


def mine(
    lines: Iterable[str],
    *,
    similarity: float = 0.5,
    depth: int = 4,
    max_children: int = 100,
    max_clusters: int | None = None,
) -> list[Template]:
    """Mine the lines with one new miner and give, for each line, its cluster's final state:
    `size` says how common the line is in the lines given (1 or 2: a rare, telling line)."""
    miner = TemplateMiner(
        similarity=similarity, depth=depth, max_children=max_children, max_clusters=max_clusters
    )
    clusters = [miner._add(line) for line in lines]
    snapshots = {cluster.key: cluster.snapshot() for cluster in set(clusters)}
    return [snapshots[cluster.key] for cluster in clusters]


def count_templates(
    lines: Iterable[str],
    *,
    similarity: float = 0.5,
    depth: int = 4,
    max_children: int = 100,
    max_clusters: int | None = None,
) -> dict[str, int]:
    """Final template id -> number of lines, for the lines mined with a new miner."""
    counts: dict[str, int] = {}
    templates = mine(
        lines,
        similarity=similarity,
        depth=depth,
        max_children=max_children,
        max_clusters=max_clusters,
    )
    for template in templates:
        counts[template.id] = counts.get(template.id, 0) + 1
    return counts
