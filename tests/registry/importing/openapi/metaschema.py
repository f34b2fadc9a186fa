"""`Draft202012Validator.check_schema`, fast enough for thousands of imported tool schemas.

The 2020-12 metaschema checks each subschema with the metaschema again, so a schema is valid iff
every node in it is valid with its subschemas replaced by `{}`. Imported schemas repeat the same
small nodes over and over (`{"type": "string"}`, shared definitions), so checking each distinct
shallow node once is equivalent and far cheaper. A keyword missing from the lists used here is not
a hole: its value is then left in place and checked in full as part of its parent.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import msgspec

from mcpgw.json_schema import (
    COUNT_KEYWORDS,
    FLAG_KEYWORDS,
    NUMBER_KEYWORDS,
    SUBSCHEMA,
    SUBSCHEMA_LISTS,
    SUBSCHEMA_MAPS,
    TEXT_KEYWORDS,
)

# Keywords the metaschema constrains only by the shape of their value: a valid value is replaced
# by a representative, so nodes that differ only in prose, names or bounds are checked once. An
# invalid value is left as it is, for the metaschema to reject.
_ANY = ("default", "const")
_STRING = TEXT_KEYWORDS | {"pattern"}


def _representative(key: str, value: Any) -> Any:
    if key in _ANY:
        return None
    if key in _STRING and isinstance(value, str):
        return ""
    if key in ("enum", "examples") and isinstance(value, list):
        return []
    if key in NUMBER_KEYWORDS and isinstance(value, int | float) and not isinstance(value, bool):
        return 0
    if key == "multipleOf" and isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return 1
    if key in COUNT_KEYWORDS and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return 0
    if key in FLAG_KEYWORDS and isinstance(value, bool):
        return False
    if key == "required" and isinstance(value, list) and all(isinstance(v, str) for v in value) \
            and len(set(value)) == len(value):
        return []
    return value


_validator = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
_valid: set[bytes] = set()
_encode = msgspec.json.Encoder(order="sorted").encode


def check_schema(schema: Any) -> None:
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            _one(node, schema)
            continue
        shallow: dict[str, Any] = {}
        for key, value in node.items():
            if key in SUBSCHEMA and isinstance(value, dict | bool):
                shallow[key] = {}
                stack.append(value)
            elif key in SUBSCHEMA_MAPS and isinstance(value, dict) and all(
                    isinstance(v, dict | bool) for v in value.values()):
                shallow[key] = {}  # the names are free; each value is a schema, checked on its own
                stack.extend(value.values())
            elif key in SUBSCHEMA_LISTS and isinstance(value, list) and value and all(
                    isinstance(v, dict | bool) for v in value):
                shallow[key] = [{}]  # non-empty is all the metaschema asks of the list itself
                stack.extend(value)
            else:
                shallow[key] = _representative(key, value)
        _one(shallow, schema)


def _one(node: Any, whole: Any) -> None:
    key = _encode(node)
    if key in _valid:
        return
    if not _validator.is_valid(node):
        jsonschema.Draft202012Validator.check_schema(whole)  # the library's own error, with its path
        raise AssertionError("schema node invalid but the full check passed")  # pragma: no cover
    _valid.add(key)
