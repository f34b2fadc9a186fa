"""A structural check of JSON Schema (2020-12) documents that tool definitions carry.

MCP clients validate tool arguments against `inputSchema`; a schema that is not itself valid
makes some clients drop the whole `tools/list`. The registry therefore refuses malformed
schemas when the tools are saved. This checks the shape of every keyword a tool schema
reasonably uses (the same ground a metaschema covers for them) with size limits, so a hostile
document cannot make validation expensive for the data plane.
"""

from __future__ import annotations

import re
from typing import Any

from mcpgw import json_schema as vocabulary
from mcpgw.contracts.errors import invalid
from mcpgw_registry.resources.validation import join

MAX_DEPTH = 64
MAX_NODES = 4096


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class _Walk:
    def __init__(self) -> None:
        self.nodes = 0

    def schema(self, node: Any, field: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise invalid(field, f"schema is too large (more than {MAX_NODES} subschemas)")
        if depth > MAX_DEPTH:
            raise invalid(field, f"schema is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, bool):
            return
        if not isinstance(node, dict):
            raise invalid(field, "must be a JSON Schema object or boolean")
        for key, value in node.items():
            if not isinstance(key, str):
                raise invalid(field, "schema keys must be strings")
            self.keyword(key, value, join(field, key), depth)

    def keyword(self, key: str, value: Any, field: str, depth: int) -> None:
        if key == "type":
            names = value if isinstance(value, list) else [value]
            if not names or any(not isinstance(n, str) or n not in vocabulary.JSON_TYPES for n in names):
                raise invalid(field, f"must be one of {', '.join(sorted(vocabulary.JSON_TYPES))} (or a list of them)")
            if len(set(names)) != len(names):
                raise invalid(field, "lists a type twice")
        elif key in vocabulary.SUBSCHEMA:
            self.schema(value, field, depth + 1)
        elif key in vocabulary.SUBSCHEMA_MAPS:
            if not isinstance(value, dict):
                raise invalid(field, "must be an object mapping names to schemas")
            for name, sub in value.items():
                if key == "patternProperties":
                    _pattern(name, join(field, str(name)))
                self.schema(sub, join(field, str(name)), depth + 1)
        elif key in vocabulary.SUBSCHEMA_LISTS:
            if not isinstance(value, list) or not value:
                raise invalid(field, "must be a non-empty list of schemas")
            for i, sub in enumerate(value):
                self.schema(sub, f"{field}[{i}]", depth + 1)
        elif key == "required":
            if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
                raise invalid(field, "must be a list of property names")
            if len(set(value)) != len(value):
                raise invalid(field, "lists a property twice")
        elif key == "enum":
            if not isinstance(value, list):
                raise invalid(field, "must be a list")
        elif key in vocabulary.NUMBER_KEYWORDS:
            if not _is_number(value):
                raise invalid(field, "must be a number")
        elif key == "multipleOf":
            if not _is_number(value) or value <= 0:
                raise invalid(field, "must be a number greater than 0")
        elif key in vocabulary.COUNT_KEYWORDS:
            if not _is_count(value):
                raise invalid(field, "must be a non-negative integer")
        elif key in vocabulary.TEXT_KEYWORDS:
            if not isinstance(value, str):
                raise invalid(field, "must be a string")
        elif key in vocabulary.FLAG_KEYWORDS:
            if not isinstance(value, bool):
                raise invalid(field, "must be true or false")
        elif key == "pattern":
            if not isinstance(value, str):
                raise invalid(field, "must be a string")
            _pattern(value, field)
        elif key == "dependentRequired":
            if not isinstance(value, dict) or any(
                    not isinstance(v, list) or any(not isinstance(x, str) for x in v) for v in value.values()):
                raise invalid(field, "must map property names to lists of property names")
        elif key == "examples":
            if not isinstance(value, list):
                raise invalid(field, "must be a list")
        # Other keywords (`const`, `default`, vendor extensions) take any value.


def _pattern(value: str, field: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise invalid(field, f"is not a valid regular expression: {exc}") from None


def check_schema(schema: Any, field: str, *, object_root: bool = False) -> None:
    """Raise `InvalidParameter` naming the first malformed keyword under `field`."""
    if object_root:
        if not isinstance(schema, dict):
            raise invalid(field, "must be a JSON Schema object")
        if schema.get("type") != "object":
            raise invalid(join(field, "type"), 'must be "object"')
    _Walk().schema(schema, field, 0)
