"""YAML read into plain values while remembering the line of every key and item, so that a
pydantic error's location (`rules.2.effect`) becomes a line of the file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from recoverops.errors import ConfigurationError

Path = tuple[str | int, ...]


def load_with_lines(text: str, *, source: str) -> tuple[Any, dict[Path, int]]:
    """The document's value and a map from each path in it to its 1-based line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigurationError(f"{source}:{line}: not valid YAML: {problem}") from None
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    scalars = yaml.SafeLoader("")  # constructs each scalar by its resolved tag (int, bool, …)
    return _value(node, (), lines, source, scalars), lines


def _value(
    node: yaml.Node, path: Path, lines: dict[Path, int], source: str, scalars: yaml.SafeLoader
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigurationError(
                    f"{source}:{key_node.start_mark.line + 1}: a key must be text"
                )
            if key in mapping:
                line = key_node.start_mark.line + 1
                raise ConfigurationError(f"{source}:{line}: '{key}' is given twice")
            mapping[key] = _value(value_node, (*path, key), lines, source, scalars)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [
            _value(item, (*path, i), lines, source, scalars) for i, item in enumerate(node.value)
        ]
    assert isinstance(node, yaml.ScalarNode)
    return scalars.construct_object(node)


def line_of(lines: dict[Path, int], location: Sequence[str | int]) -> int:
    """The line of the longest prefix of `location` the document has."""
    path = tuple(location)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def explain(error: ValidationError, lines: dict[Path, int], *, source: str) -> ConfigurationError:
    """The validation's first problems as `file:line: where: what`, one per line."""
    problems = []
    for problem in error.errors(include_url=False)[:5]:
        location = [part for part in problem["loc"] if isinstance(part, str | int)]
        where = ".".join(str(part) for part in location) or "the document"
        problems.append(f"{source}:{line_of(lines, location)}: {where}: {problem['msg']}")
    return ConfigurationError("\n".join(problems))
