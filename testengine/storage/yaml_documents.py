"""YAML that remembers where each mapping and key was, so errors can name the line.

Duplicate keys are reported instead of silently keeping the last one, which plain YAML does
and which would hide an item writer's mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

from testengine.domain.problems import DataError, Problem


class LineMap(dict[str, Any]):
    """A mapping from a YAML file with the line of itself and of each key."""

    line: int
    key_lines: dict[str, int]


# libyaml's parser (C) where PyYAML was built with it, five times faster on the banks; both
# keep each node's line.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    duplicates: list[tuple[str, int]]


def _construct_mapping(loader: _Loader, node: MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    mapping = LineMap()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key_node, ScalarNode) and key in mapping:
            loader.duplicates.append((str(key), line))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[str(key)] = line
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def display_path(path: Path) -> str:
    """Paths in messages are relative to the working folder where that is shorter."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file, raising DataError (with the line) for anything unreadable."""
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError([Problem(reason=f"cannot read: {exc}", file=name)]) from exc
    loader = _Loader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise DataError([Problem(reason=f"not valid YAML: {reason}", file=name, line=line)]) from exc
    finally:
        loader.dispose()
    if loader.duplicates:
        raise DataError(
            Problem(reason=f"key {key!r} appears twice in one mapping", file=name, line=line)
            for key, line in loader.duplicates
        )
    return data


def line_of(data: Any, location: Sequence[int | str]) -> int | None:
    """The line of the deepest mapping or key that `location` (a pydantic loc) reaches."""
    line = data.line if isinstance(data, LineMap) else None
    node = data
    for step in location:
        if isinstance(node, LineMap) and isinstance(step, str) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            break
        if isinstance(node, LineMap):
            line = node.line
    return line
