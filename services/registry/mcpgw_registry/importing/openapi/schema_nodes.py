"""One OpenAPI schema node -> 2020-12, keyword by keyword; `schemas.SchemaConverter` adds the references.

Per node: `nullable` / `x-nullable` become type unions, `oneOf` becomes `anyOf`, object `allOf`
members are merged, OpenAPI-only keywords are dropped, arrays always get `items`, and `readOnly`
properties leave input schemas (`writeOnly` ones leave output schemas).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mcpgw.json_schema import (
    COUNT_KEYWORDS,
    FLAG_KEYWORDS,
    JSON_TYPES,
    NUMBER_KEYWORDS,
    SUBSCHEMA,
    SUBSCHEMA_LISTS,
    SUBSCHEMA_MAPS,
    TEXT_KEYWORDS,
)
from mcpgw_registry.importing.openapi import text
from mcpgw_registry.importing.openapi.problems import SkipOperation
from mcpgw_registry.importing.openapi.refs import RefError, Resolver
from mcpgw_registry.importing.openapi.schema_tree import annotation_only, count, merge_objects, object_like

Mode = Literal["input", "output"]

# Schema levels converted at once, two per `$ref` hop (the reference and the definition): 800
# frames at most, with room for the caller's.
NESTING_LIMIT = 160
# Descriptions inside schemas (fields of fields) are cut shorter than tool descriptions: deep in a
# Kubernetes object they are most of the bytes of every tool that embeds it, and add little.
SCHEMA_DESCRIPTION_LIMIT = 400
# What the result carries of the 2020-12 vocabulary (`mcpgw.json_schema`). Left out: `additionalItems`
# (2019-09, `items` took its place), `contentSchema` (describes encoded content; no client acts on
# it), the `$`-keywords that would re-root our `#/$defs` references, and readOnly/writeOnly (applied:
# such properties leave input or output schemas). allOf is merged apart (`_all_of`); the exclusive
# bounds depend on `minimum`/`maximum` (`_exclusive`); properties and description are converted.
_ONE = SUBSCHEMA - {"additionalItems", "contentSchema"}
_LISTS = SUBSCHEMA_LISTS - {"allOf"}
_MAPS = SUBSCHEMA_MAPS - {"properties", "$defs", "definitions"}
_TEXT = TEXT_KEYWORDS - {"description", "$id", "$schema", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor"}
_NUMBER = NUMBER_KEYWORDS - {"exclusiveMinimum", "exclusiveMaximum"}
_FLAG = FLAG_KEYWORDS - {"readOnly", "writeOnly"}
# Output schemas keep structure only: descriptions and examples of responses made imported
# documents ten times larger (Kubernetes, Stripe) and serve no client that validates results.
_NOT_IN_OUTPUT = frozenset({"description", "title", "example", "examples", "$comment"})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(slots=True)
class Ctx:
    """What was lost or approximated while converting one tool's schemas."""

    notes: list[str] = field(default_factory=list)
    simplified: bool = False  # cut down to the size budget

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)


@dataclass(frozen=True, slots=True)
class Converted:
    schema: Any  # dict or bool; shared between tools, never mutated
    size: int  # subschemas, counted the way the registry's schema check counts them
    depth: int


class NodeConverter:
    """Converts nodes; a `$ref` goes to `_ref`, which the subclass (references, `$defs`) provides."""

    def __init__(self, resolver: Resolver, *, description_limit: int) -> None:
        self.resolver = resolver
        self._limit = min(description_limit, SCHEMA_DESCRIPTION_LIMIT) if description_limit > 0 \
            else SCHEMA_DESCRIPTION_LIMIT
        self._patterns: dict[str, bool] = {}
        self._descriptions: dict[str, str] = {}
        self._depth = 0  # schema levels being converted, `$ref` hops included

    def _ref(self, node: dict[str, Any], mode: Mode, ctx: Ctx, base: str) -> Converted:
        raise NotImplementedError

    def content(self, converted: Converted, mode: Mode, ctx: Ctx) -> Any:
        """The schema itself when `converted` is only a reference to one (subclasses resolve it)."""
        return converted.schema

    def _node(self, node: Any, mode: Mode, ctx: Ctx, base: str) -> Converted:
        # A level costs about five frames of the interpreter's 1000, and `$ref`s make levels that
        # do not nest the document: a chain of 3000 definitions raised RecursionError (one of 130
        # did already). Past the limit the operation is skipped instead of the import failing.
        if self._depth >= NESTING_LIMIT:
            raise SkipOperation(f"its schemas nest deeper than {NESTING_LIMIT} levels (counting $ref hops)")
        self._depth += 1
        try:
            return self._node_body(node, mode, ctx, base)
        finally:
            self._depth -= 1

    def _node_body(self, node: Any, mode: Mode, ctx: Ctx, base: str) -> Converted:
        if isinstance(node, bool):
            return Converted(node, 1, 1)
        if not isinstance(node, dict):
            return Converted({}, 1, 1)
        if "$ref" in node:
            return self._ref(node, mode, ctx, base)
        if isinstance(node.get("$id"), str):
            base = Resolver._rebase(node, base)
        if isinstance(node.get("allOf"), list) and node["allOf"]:
            return self._all_of(node, mode, ctx, base)
        out: dict[str, Any] = {}
        size, depth = 1, 0

        types = self._types(node, out)
        if types is not None:
            out["type"] = types[0] if len(types) == 1 else types

        for key, value in node.items():
            if not isinstance(key, str) or key in ("type", "nullable", "x-nullable") or key.startswith("x-"):
                continue
            sub = self._keyword(key, value, node, out, mode, ctx, base)
            if sub is not None:
                size += sub[0]
                depth = max(depth, sub[1])

        if "type" not in out and "properties" in out and not ({"anyOf", "allOf", "not"} & out.keys()):
            out["type"] = "object"  # what the author meant; clients and Higress-style readers need it
        if out.get("type") == "array" and "default" in out and not isinstance(out["default"], list):
            out["default"] = [out["default"]]  # Swagger 2.0 documents often give one item as the default
        if "exclusiveMinimum" in node or "exclusiveMaximum" in node:
            self._exclusive(node, out)
        removed = out.pop("\0removed", None)
        if removed and isinstance(out.get("required"), list):
            names = [r for r in out["required"] if r not in removed]
            if names:
                out["required"] = names
            else:
                del out["required"]

        if "items" not in out and "prefixItems" not in out and (
                out.get("type") == "array" or (isinstance(out.get("type"), list) and "array" in out["type"])):
            out["items"] = {}
            size += 1
            depth = max(depth, 1)

        if node.get("nullable") is True or node.get("x-nullable") is True:
            size += self._nullable(out)
        return Converted(out, size, depth + 1)

    def _types(self, node: dict[str, Any], out: dict[str, Any]) -> list[str] | None:
        raw = node.get("type")
        names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else None
        if names is None:
            return None
        kept: list[str] = []
        for name in names:
            if name == "file":  # Swagger 2.0 upload
                name = "string"
                out["format"] = "binary"
            if isinstance(name, str) and name in JSON_TYPES and name not in kept:
                kept.append(name)
        return kept or None

    def _keyword(self, key: str, value: Any, node: dict[str, Any], out: dict[str, Any], mode: Mode,
                 ctx: Ctx, base: str) -> tuple[int, int] | None:
        """Copy or convert one keyword into `out`; returns (size, depth) of any subschemas added."""
        if mode == "output" and key in _NOT_IN_OUTPUT:
            return None
        if key == "properties":
            if isinstance(value, dict):
                return self._properties(value, node, out, mode, ctx, base)
        elif key in _ONE:
            if isinstance(value, list) and key == "items":  # tuple form, never valid OpenAPI
                return self._list("prefixItems", value, out, mode, ctx, base)
            if isinstance(value, dict | bool):
                sub = self._node(value, mode, ctx, base)
                out[key] = sub.schema
                return sub.size, sub.depth
        elif key in _LISTS:
            if isinstance(value, list) and value:
                target = "anyOf" if key in ("anyOf", "oneOf") else key
                if target in out:  # both anyOf and oneOf: both must hold
                    first = out.pop(target)
                    size, depth = self._list(target, value, out, mode, ctx, base)
                    out["allOf"] = [{"anyOf": first}, {"anyOf": out.pop(target)}]
                    return size + 2, depth + 1
                return self._list(target, value, out, mode, ctx, base)
        elif key in _MAPS:
            if isinstance(value, dict):
                kept: dict[str, Any] = {}
                size = depth = 0
                for name, sub_node in value.items():
                    if key == "patternProperties" and not self._pattern_ok(str(name)):
                        ctx.note(f"patternProperties {name!r} is not a usable regular expression; dropped")
                        continue
                    sub = self._node(sub_node, mode, ctx, base)
                    kept[str(name)] = sub.schema
                    size, depth = size + sub.size, max(depth, sub.depth)
                if kept:
                    out[key] = kept
                return size, depth
        elif key == "required":
            if isinstance(value, list) and "required" not in out:
                names = list(dict.fromkeys(v for v in value if isinstance(v, str)))
                if names:
                    out["required"] = names
        elif key == "description":
            if isinstance(value, str):
                described = self._describe(value)
                if described:
                    out["description"] = described
        elif key in _TEXT:
            if isinstance(value, str) and key not in out:
                out[key] = value
        elif key == "pattern":
            if isinstance(value, str):
                if self._pattern_ok(value):
                    out["pattern"] = value
                else:
                    ctx.note(f"pattern {value!r} is not a usable regular expression; dropped")
        elif key == "enum":
            if isinstance(value, list) and value:
                out["enum"] = value
        elif key in ("const", "default"):
            out[key] = value
        elif key == "example":
            if "examples" not in node and not isinstance(value, dict | list):
                out["examples"] = [value]
        elif key == "examples":
            if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
                out["examples"] = value
        elif key in COUNT_KEYWORDS:
            if _is_count(value):
                out[key] = value
        elif key in _NUMBER:
            if _is_number(value):
                out[key] = value
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            pass  # after the loop: it depends on `minimum` / `maximum`
        elif key == "multipleOf":
            if _is_number(value) and value > 0:
                out[key] = value
        elif key in _FLAG:
            if isinstance(value, bool):
                out[key] = value
        elif key == "dependentRequired":
            if isinstance(value, dict) and all(
                    isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value.values()):
                out[key] = value
        # Everything else is OpenAPI-only (discriminator, xml, externalDocs, readOnly/writeOnly
        # once applied, $id/$anchor/$schema that would re-root our `#/$defs` references) or
        # unknown: left out so the result is plain 2020-12.
        return None

    @staticmethod
    def _exclusive(node: dict[str, Any], out: dict[str, Any]) -> None:
        """3.0 writes `exclusiveMinimum: true` beside `minimum`; 2020-12 wants the bound itself."""
        for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            value = node.get(key)
            if _is_number(value):
                out[key] = value
            elif value is True and _is_number(node.get(bound)):
                out[key] = out.pop(bound)

    def _properties(self, props: dict[str, Any], node: dict[str, Any], out: dict[str, Any], mode: Mode,
                    ctx: Ctx, base: str) -> tuple[int, int]:
        kept: dict[str, Any] = {}
        removed: list[str] = []
        size = depth = 0
        hidden = "readOnly" if mode == "input" else "writeOnly"
        for name, sub_node in props.items():
            name = str(name)
            if self._flag(sub_node, hidden, base):
                removed.append(name)
                continue
            sub = self._node(sub_node, mode, ctx, base)
            kept[name] = sub.schema
            size, depth = size + sub.size, max(depth, sub.depth)
        out["properties"] = kept
        if removed:
            out["\0removed"] = removed
        return size, depth

    def _flag(self, node: Any, flag: str, base: str) -> bool:
        if not isinstance(node, dict):
            return False
        if node.get(flag) is True:
            return True
        if "$ref" in node:
            try:
                target = self.resolver.deref(node, base)
            except RefError:
                return False
            return isinstance(target.node, dict) and target.node.get(flag) is True
        return False

    def _list(self, key: str, value: list[Any], out: dict[str, Any], mode: Mode, ctx: Ctx,
              base: str) -> tuple[int, int]:
        items: list[Any] = []
        size = depth = 0
        for sub_node in value:
            sub = self._node(sub_node, mode, ctx, base)
            items.append(sub.schema)
            size, depth = size + sub.size, max(depth, sub.depth)
        out[key] = items
        return size, depth

    def _nullable(self, out: dict[str, Any]) -> int:
        """3.0 `nullable` / 2.0 `x-nullable` -> 2020-12; returns the subschemas it added."""
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"] if kind != "null" else "null"
        elif isinstance(kind, list):
            if "null" not in kind:
                out["type"] = [*kind, "null"]
        elif "anyOf" in out:
            if {"type": "null"} not in out["anyOf"]:
                out["anyOf"] = [*out["anyOf"], {"type": "null"}]
                return 1
            return 0
        else:
            # Without a type, `nullable` alone says nothing more than "anything" already does;
            # it must never turn into `type: null`.
            return 0
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return 0

    # -- allOf -----------------------------------------------------------------------------

    def _all_of(self, node: dict[str, Any], mode: Mode, ctx: Ctx, base: str) -> Converted:
        own = {k: v for k, v in node.items() if k != "allOf"}
        members = [m for m in node["allOf"]]
        converted_own = self._node(own, mode, ctx, base) if own else None
        parts = [self._node(m, mode, ctx, base) for m in members]
        depth = 1 + max([p.depth for p in parts] + ([converted_own.depth] if converted_own else []))
        if len(parts) == 1 and converted_own is not None and not object_like(converted_own.schema):
            # Kubernetes style: `allOf: [$ref]` with a description or default beside it.
            member = parts[0]
            if isinstance(member.schema, dict) and isinstance(converted_own.schema, dict):
                return Converted({**member.schema, **converted_own.schema}, member.size, member.depth)
            return member
        contents = [self.content(p, mode, ctx) for p in parts]
        own_schema = converted_own.schema if converted_own is not None else None
        everything = contents + ([own_schema] if own_schema is not None else [])
        if all(isinstance(c, dict) and (object_like(c) or annotation_only(c)) for c in everything):
            merged = merge_objects(everything)
            if isinstance(own_schema, dict):  # the schema's own annotations win over its members'
                merged.update({k: v for k, v in own_schema.items() if k not in ("properties", "required", "type")})
            return Converted(merged, count(merged), depth)
        out: dict[str, Any] = dict(converted_own.schema) if converted_own is not None and isinstance(
            converted_own.schema, dict) else {}
        out["allOf"] = [p.schema for p in parts]
        size = 1 + sum(p.size for p in parts) + (converted_own.size - 1 if converted_own else 0)
        return Converted(out, size, depth)

    def _describe(self, value: str) -> str:
        found = self._descriptions.get(value)
        if found is None:
            found = self._descriptions[value] = text.clean(value, self._limit)
        return found

    def _pattern_ok(self, pattern: str) -> bool:
        ok = self._patterns.get(pattern)
        if ok is None:
            try:
                re.compile(pattern)
                ok = True
            except (re.error, RecursionError, OverflowError):
                ok = False
            self._patterns[pattern] = ok
        return ok
