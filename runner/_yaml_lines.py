"""Map a pydantic error location to the line of the YAML file it came from."""

from __future__ import annotations

from collections.abc import Sequence

import yaml


def line_of(text: str, loc: Sequence[int | str]) -> int | None:
    """1-based line of the node at ``loc`` (or its nearest existing parent)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            child = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            child = node.value[key] if 0 <= key < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line
