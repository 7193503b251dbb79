"""The signature catalogue: YAML files validated into typed signatures on load.

A catalogue file looks like this (see `signatures/*.yaml`):

    signatures:
      - id: maven.surefire.failures            # unique, dotted: ecosystem.tool.what
        category: build.test                   # a taxonomy id
        keywords: ["tests run:"]               # lowercase literals; a line must contain one
        pattern: 'Tests run: \\d+, Failures: [1-9]'  # Python regex searched in the cleaned line
        weight: 3.0                            # how decisive one such line is, in (0, 10]
        summary: Maven Surefire reported failing tests
        examples: ["Tests run: 4, Failures: 1, Errors: 0, Skipped: 0"]
        counter_examples: ["Tests run: 4, Failures: 0, Errors: 0, Skipped: 0"]
      - id: k8s.event.backoff-restarting
        category: infra.container
        symptom: true                          # a consequence of another failure (optional)
        ...
    commands:                                  # the failing step's command says what ran
      - id: command.flake8                     # same keys as a signature; matched against
        category: build.lint                   # the command, not the log lines
        keywords: [flake8]
        pattern: '\\bflake8\\b'
        weight: 1.5
        examples: ["flake8 src tests"]
    noise:                                     # lines that are never evidence
      - id: maven.download
        pattern: '^\\[INFO\\] Download(ing|ed) from'

A `symptom` is what another failure causes (the BackOff event after a crash, the pod evicted by a
node under pressure, a CrashLoopBackOff row): when a signature that is not a symptom also matches,
the cause decides the category and leads the evidence (`classify.scorer.SYMPTOM_FACTOR`).

Every example must match its pattern (and contain a keyword); no counter-example may match.
An invalid file raises ConfigurationError naming the file and the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from recoverops.errors import ConfigurationError
from recoverops.taxonomy import Category

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*(\.[a-z0-9_\-]+)+$")
_SIGNATURE_KEYS = {
    "id",
    "category",
    "keywords",
    "pattern",
    "weight",
    "summary",
    "symptom",
    "ignore_case",
    "examples",
    "counter_examples",
}
_NOISE_KEYS = {"id", "pattern", "ignore_case", "examples"}


@dataclass(frozen=True, slots=True)
class Signature:
    id: str
    category: Category
    keywords: tuple[str, ...]
    regex: re.Pattern[str]
    weight: float
    summary: str
    source: str
    line: int
    symptom: bool = False

    def search(self, line: str) -> re.Match[str] | None:
        return self.regex.search(line)


@dataclass(frozen=True, slots=True)
class NoisePattern:
    id: str
    regex: re.Pattern[str]
    source: str
    line: int


@dataclass(frozen=True, slots=True)
class Catalogue:
    signatures: tuple[Signature, ...]
    commands: tuple[Signature, ...]
    noise: tuple[NoisePattern, ...]

    def by_keyword(self) -> dict[str, tuple[Signature, ...]]:
        table: dict[str, list[Signature]] = {}
        for signature in self.signatures:
            for keyword in signature.keywords:
                table.setdefault(keyword, []).append(signature)
        return {k: tuple(v) for k, v in table.items()}


# libyaml's parser when present (ten times faster); both keep each node's line.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[misc]
    """A safe loader that remembers the line each mapping starts on, and each list item's."""


class _Entries(list[Any]):
    """A YAML list that knows the line of each of its items."""

    lines: list[int]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _Entries:
    entries = _Entries(loader.construct_sequence(node, deep=True))
    entries.lines = [item.start_mark.line + 1 for item in node.value]
    return entries


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _fail(source: str, line: object, message: str) -> ConfigurationError:
    return ConfigurationError(f"{source}:{line}: {message}")


def _compile(source: str, line: object, pattern: object, ignore_case: object) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise _fail(source, line, "'pattern' must be a non-empty string")
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise _fail(source, line, f"pattern {pattern!r} is not a valid regex: {exc}") from None


def _strings(source: str, line: object, value: object, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, line, f"'{field}' must be a list of strings")
    return tuple(value)


def _line_and_id(source: str, raw: dict[str, Any], keys: set[str], what: str) -> tuple[int, str]:
    """The entry's line, and its id once the entry has only known keys and a well-formed id."""
    line: int = raw.get("__line__", 0)
    unknown = set(raw) - keys - {"__line__"}
    if unknown:
        raise _fail(source, line, f"unknown keys {sorted(unknown)}")
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise _fail(source, line, f"{what}'id' must be a dotted lowercase id, got {entry_id!r}")
    return line, entry_id


def _signature(source: str, raw: dict[str, Any]) -> Signature:
    line, sid = _line_and_id(source, raw, _SIGNATURE_KEYS, "")
    try:
        category = Category(str(raw.get("category")))
    except ValueError:
        raise _fail(source, line, f"{sid}: unknown category {raw.get('category')!r}") from None
    if category is Category.UNKNOWN:
        raise _fail(source, line, f"{sid}: a signature cannot claim 'unknown'")
    keywords = _strings(source, line, raw.get("keywords"), "keywords")
    if not keywords or any(k != k.lower() or not k.strip() for k in keywords):
        raise _fail(source, line, f"{sid}: 'keywords' must be non-empty lowercase literals")
    regex = _compile(source, line, raw.get("pattern"), raw.get("ignore_case", False))
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 10:
        raise _fail(source, line, f"{sid}: 'weight' must be a number in (0, 10]")
    examples = _strings(source, line, raw.get("examples"), "examples")
    if not examples:
        raise _fail(source, line, f"{sid}: give at least one real example line")
    for example in examples:
        if not regex.search(example):
            raise _fail(source, line, f"{sid}: example does not match: {example!r}")
        if not any(k in example.lower() for k in keywords):
            raise _fail(source, line, f"{sid}: example contains no keyword: {example!r}")
    for counter in _strings(source, line, raw.get("counter_examples"), "counter_examples"):
        if regex.search(counter):
            raise _fail(source, line, f"{sid}: counter-example matches: {counter!r}")
    summary = raw.get("summary") or ""
    if not isinstance(summary, str):
        raise _fail(source, line, f"{sid}: 'summary' must be a string")
    symptom = raw.get("symptom", False)
    if not isinstance(symptom, bool):
        raise _fail(source, line, f"{sid}: 'symptom' must be true or false")
    return Signature(
        id=sid,
        category=category,
        keywords=keywords,
        regex=regex,
        weight=float(weight),
        summary=summary,
        source=source,
        line=line,
        symptom=symptom,
    )


def _noise(source: str, raw: dict[str, Any]) -> NoisePattern:
    line, nid = _line_and_id(source, raw, _NOISE_KEYS, "noise ")
    regex = _compile(source, line, raw.get("pattern"), raw.get("ignore_case", False))
    for example in _strings(source, line, raw.get("examples"), "examples"):
        if not regex.search(example):
            raise _fail(source, line, f"{nid}: example does not match: {example!r}")
    return NoisePattern(id=nid, regex=regex, source=source, line=line)


@dataclass(slots=True)
class _Parsed:
    signatures: list[Signature]
    commands: list[Signature]
    noise: list[NoisePattern]


def _key_line(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return 1


def parse_catalogue_text(text: str, *, source: str) -> _Parsed:
    try:
        document = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        # Where the broken construct starts, rather than where the parser gave up on it.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark is not None else "?"
        raise ConfigurationError(f"{source}:{line}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{source}: not valid YAML: {exc}") from None
    if document is None:
        return _Parsed([], [], [])
    if not isinstance(document, dict):
        raise ConfigurationError(f"{source}:1: a catalogue file is a mapping")
    unknown = set(document) - {"signatures", "commands", "noise", "__line__"}
    if unknown:
        raise ConfigurationError(f"{source}:1: unknown top-level keys {sorted(unknown)}")
    empty = _Entries()
    empty.lines = []
    sections = {k: document.get(k) or empty for k in ("signatures", "commands", "noise")}
    for key, items in sections.items():
        if not isinstance(items, _Entries):
            raise ConfigurationError(f"{source}:{_key_line(text, key)}: '{key}' is a list")
        for item, line in zip(items, items.lines, strict=True):
            if not isinstance(item, dict):
                raise ConfigurationError(f"{source}:{line}: every entry is a mapping, got {item!r}")
    return _Parsed(
        signatures=[_signature(source, s) for s in sections["signatures"]],
        commands=[_signature(source, s) for s in sections["commands"]],
        noise=[_noise(source, n) for n in sections["noise"]],
    )


def _shipped_files() -> Iterator[tuple[str, str]]:
    folder = resources.files("recoverops.classify") / "signatures"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            yield f"recoverops/classify/signatures/{entry.name}", entry.read_text("utf-8")


def _folder_files(folder: Path) -> Iterator[tuple[str, str]]:
    if not folder.is_dir():
        raise ConfigurationError(f"{folder}: signature folder does not exist")
    for path in sorted(folder.glob("*.yaml")):
        try:
            yield str(path), path.read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigurationError(f"{path}: not UTF-8 text ({exc.reason})") from None
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot be read ({exc.strerror})") from None


def build_catalogue(files: Iterable[tuple[str, str]]) -> Catalogue:
    merged = _Parsed([], [], [])
    seen: dict[str, str] = {}
    for source, text in files:
        parsed = parse_catalogue_text(text, source=source)
        located = [(s.id, f"{s.source}:{s.line}") for s in (*parsed.signatures, *parsed.commands)]
        located += [(n.id, f"{n.source}:{n.line}") for n in parsed.noise]
        for item_id, where in located:
            if item_id in seen:
                raise ConfigurationError(
                    f"{where}: id {item_id!r} already defined at {seen[item_id]}"
                )
            seen[item_id] = where
        merged.signatures.extend(parsed.signatures)
        merged.commands.extend(parsed.commands)
        merged.noise.extend(parsed.noise)
    return Catalogue(
        signatures=tuple(merged.signatures),
        commands=tuple(merged.commands),
        noise=tuple(merged.noise),
    )


@cache
def load_catalogue(extra_dirs: tuple[Path, ...] = ()) -> Catalogue:
    """The shipped catalogue plus any operator folders, validated; cached per folder list."""
    files: list[tuple[str, str]] = list(_shipped_files())
    for folder in extra_dirs:
        files.extend(_folder_files(folder))
    return build_catalogue(files)
