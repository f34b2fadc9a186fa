"""Functions over converted schemas (plain 2020-12): their size, the `$defs` they refer to, stubs, merging.

Sizes are counted the way the registry's schema check walks a schema (`mcpgw.json_schema`), so a
budget kept here is one the check accepts.
"""

from __future__ import annotations

from typing import Any

from mcpgw.json_schema import SUBSCHEMA, SUBSCHEMA_LISTS, SUBSCHEMA_MAPS


def object_like(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    return "properties" in schema or kind == "object" or (isinstance(kind, list) and "object" in kind)


def annotation_only(schema: dict[str, Any]) -> bool:
    return set(schema) <= {"title", "description", "default", "deprecated", "examples", "required"}


def merge_objects(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """allOf of objects -> one object: properties and required unioned, first annotation wins."""
    out: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    nullable_everywhere = all(isinstance(p.get("type"), list) and "null" in p["type"] for p in parts
                              if "type" in p)
    for part in parts:
        for key, value in part.items():
            if key == "properties":
                for name, sub in value.items():
                    if name in properties and properties[name] != sub:
                        properties[name] = {"allOf": [properties[name], sub]}
                    else:
                        properties[name] = sub
            elif key == "required":
                required.extend(r for r in value if r not in required)
            elif key == "type":
                continue
            elif key not in out:
                out[key] = value
    out["type"] = ["object", "null"] if nullable_everywhere and any("type" in p for p in parts) else "object"
    out["properties"] = properties
    if required:
        out["required"] = required
    return out


def measure(schema: Any) -> tuple[int, int]:
    """(subschemas, nesting depth) of `schema`, as the registry's schema check counts them."""
    if not isinstance(schema, dict):
        return 1, 1
    total, deepest = 1, 0
    for key, value in schema.items():
        subs: Any = ()
        if key in SUBSCHEMA_MAPS and isinstance(value, dict):
            subs = value.values()
        elif key in SUBSCHEMA_LISTS and isinstance(value, list):
            subs = value
        elif key in SUBSCHEMA:
            subs = (value,)
        for sub in subs:
            size, depth = measure(sub)
            total += size
            deepest = max(deepest, depth)
    return total, deepest + 1


def count(schema: Any) -> int:
    return measure(schema)[0]


def refs(schema: Any) -> set[str]:
    """Names of the `#/$defs/...` definitions referred to anywhere in `schema` (subschemas only)."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key == "$ref":
                if isinstance(value, str) and value.startswith("#/$defs/"):
                    found.add(value[8:])
            elif key in SUBSCHEMA_MAPS:
                if isinstance(value, dict):
                    stack.extend(value.values())
            elif key in SUBSCHEMA_LISTS:
                if isinstance(value, list):
                    stack.extend(value)
            elif key in SUBSCHEMA:
                stack.append(value)
    return found


def reachable(root: Any, defs: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    frontier = refs(root)
    while frontier:
        name = frontier.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        frontier |= refs(defs[name]) - seen
    return seen


def stub(schema: Any) -> Any:
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        if isinstance(schema.get("type"), str | list):
            out["type"] = schema["type"]
        if isinstance(schema.get("description"), str):
            out["description"] = schema["description"]
        if out.get("type") == "array":
            out["items"] = {}
        return out
    return schema


def shallow_properties(root: dict[str, Any]) -> dict[str, Any]:
    props = root.get("properties")
    if not isinstance(props, dict):
        return root
    return {**root, "properties": {name: stub(sub) if count(sub) > 8 else sub for name, sub in props.items()}}
