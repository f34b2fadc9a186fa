"""OpenAPI schemas (2.0, 3.0, 3.1) -> JSON Schema 2020-12 as MCP clients accept it.

Per node: `nullable` / `x-nullable` become type unions, `oneOf` becomes `anyOf`, object `allOf`
members are merged, OpenAPI-only keywords are dropped, arrays always get `items`, and `readOnly`
properties leave input schemas (`writeOnly` ones leave output schemas).

References: every referenced schema is converted once per mode and memoised. Small,
non-recursive ones are inlined (many clients cannot follow `$ref`); recursive or large ones go
to the tool schema's `$defs`, and each tool carries only the definitions it reaches. Whether a
definition is recursive is decided on the whole reference graph (strongly connected components),
not on the order operations happen to be visited in, so a tool's schema depends only on what it
references.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mcpgw.contracts.errors import McpgwError
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
from mcpgw_registry.importing.openapi.problems import SkipOperation, ref_failure
from mcpgw_registry.importing.openapi.refs import DOC_BASE, RefError, Resolver, Target

Mode = Literal["input", "output"]

# A referenced schema this small (in subschemas) is copied where it is used rather than
# referenced: most tool schemas then need no `$defs` at all.
INLINE_MAX = 40
# The registry refuses tool schemas over 4096 subschemas or 64 levels deep.
INPUT_BUDGET = 3000
OUTPUT_BUDGET = 400
MAX_DEPTH = 60
# Schema levels converted at once, two per `$ref` hop (the reference and the definition): 800
# frames at most, with room for the caller's.
NESTING_LIMIT = 160
# Descriptions inside schemas (fields of fields) are cut shorter than tool descriptions: deep in a
# Kubernetes object they are most of the bytes of every tool that embeds it, and add little.
SCHEMA_DESCRIPTION_LIMIT = 400

_SKIP_SCAN = frozenset({"example", "examples", "default", "enum", "const", "externalDocs", "xml"})
_ANNOTATIONS = ("title", "description", "default", "deprecated", "examples")
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
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
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


@dataclass(slots=True)
class Entry:
    key: str
    name: str
    value: Converted
    notes: tuple[str, ...]
    recursive: bool


class SchemaConverter:
    def __init__(self, resolver: Resolver, *, description_limit: int, allow_external: bool) -> None:
        self.resolver = resolver
        self._limit = min(description_limit, SCHEMA_DESCRIPTION_LIMIT) if description_limit > 0 \
            else SCHEMA_DESCRIPTION_LIMIT
        self._allow_external = allow_external
        self._entries: dict[tuple[str, Mode], Entry] = {}
        self._busy: set[tuple[str, Mode]] = set()
        self._edges: dict[str, tuple[str, ...]] = {}
        self._recursive: dict[str, bool] = {}
        self._names: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        self._direct_refs: dict[tuple[str, Mode], frozenset[str]] = {}
        self._patterns: dict[str, bool] = {}
        self._descriptions: dict[str, str] = {}
        self._depth = 0  # schema levels being converted, `$ref` hops included

    # -- entry points ----------------------------------------------------------------------

    def convert(self, node: Any, mode: Mode, ctx: Ctx, base: str = DOC_BASE) -> Converted:
        return self._node(node, mode, ctx, base)

    def content(self, converted: Converted, mode: Mode, ctx: Ctx) -> Any:
        """The schema itself when `converted` is just a reference to one of our definitions."""
        schema = converted.schema
        if isinstance(schema, dict) and set(schema) <= {"$ref", *_ANNOTATIONS} and "$ref" in schema:
            key = self._key_of(schema["$ref"])
            entry = self._entries.get((key, mode)) if key is not None else None
            if entry is not None:  # None while the definition is still being converted (a cycle)
                ctx.notes.extend(n for n in entry.notes if n not in ctx.notes)
                body = entry.value.schema
                if isinstance(body, dict):
                    extra = {k: v for k, v in schema.items() if k != "$ref"}
                    return {**body, **extra} if extra else body
                return body
        return schema

    def finish(self, root: dict[str, Any], mode: Mode, ctx: Ctx, budget: int) -> dict[str, Any]:
        """`root` with the `$defs` it reaches, cut down to the budget if it is too large."""
        root_size, root_depth = measure(root)
        order = self._closure(root, mode, ctx)
        total = root_size + sum(self._entries[(k, mode)].value.size for k in order)
        depth = max([root_depth] + [1 + self._entries[(k, mode)].value.depth for k in order])
        stubs: dict[str, Any] = {}
        if total > budget or depth > MAX_DEPTH:
            root, order, stubs = self._shrink(root, root_size, root_depth, order, mode, budget, ctx)
            # Shrinking can leave definitions nothing refers to any more.
            kept = {self._name(k): self._entries[(k, mode)].value.schema for k in order}
            kept.update({self._name(k): v for k, v in stubs.items()})
            reachable = _reachable(root, kept)
            order = [k for k in order if self._name(k) in reachable]
            stubs = {k: v for k, v in stubs.items() if self._name(k) in reachable}
        if not order and not stubs:
            return root
        defs: dict[str, Any] = {}
        for key in sorted(set(order) | set(stubs), key=self._name):
            defs[self._name(key)] = stubs[key] if key in stubs else self._entries[(key, mode)].value.schema
        return {**root, "$defs": defs}

    # -- references ------------------------------------------------------------------------

    def _name(self, key: str) -> str:
        name = self._names.get(key)
        if name is None:
            pointer = key[1:]
            for prefix in ("/components/schemas/", "/definitions/"):
                rest = pointer[len(prefix):]
                if pointer.startswith(prefix) and "/" not in rest:
                    raw = rest.replace("~1", "/").replace("~0", "~")
                    break
            else:
                raw = pointer.strip("/").replace("~1", "_").replace("~0", "_")
            name = _SAFE_NAME.sub("_", raw) or "schema"
            if name != raw or len(name) > 100:
                name = f"{name[:90]}_{hashlib.sha256(key.encode()).hexdigest()[:8]}"
            self._names[key] = name
            self._keys[name] = key
        return name

    def _key_of(self, ref: str) -> str | None:
        if not ref.startswith("#/$defs/"):
            return None
        return self._keys.get(ref[len("#/$defs/"):])

    def _ref(self, node: dict[str, Any], mode: Mode, ctx: Ctx, base: str) -> Converted:
        ref = node["$ref"]
        try:
            target = self.resolver.resolve(ref, base)
        except RefError as exc:
            return self._bad_ref(exc, node, mode, ctx, base)
        entry = self._entry(target, mode)
        ctx.notes.extend(n for n in entry.notes if n not in ctx.notes)
        if entry.recursive or entry.value.size > INLINE_MAX or not isinstance(entry.value.schema, dict):
            schema: Any = {"$ref": "#/$defs/" + entry.name}
            size, depth = 1, 1
        else:
            schema = entry.value.schema
            size, depth = entry.value.size, entry.value.depth
        extra = self._siblings(node, mode, ctx, base)
        if extra:
            nullable = extra.pop("\0nullable", False)
            if extra:
                schema = {**schema, **extra} if isinstance(schema, dict) else schema
            if nullable:
                schema = {"anyOf": [schema, {"type": "null"}]}
                size, depth = size + 2, depth + 1
        return Converted(schema, size, depth)

    def _siblings(self, node: dict[str, Any], mode: Mode, ctx: Ctx, base: str) -> dict[str, Any]:
        """Annotations written beside a `$ref` (ignored by 3.0, honoured by 3.1 and by people)."""
        if len(node) == 1:
            return {}
        out: dict[str, Any] = {}
        if mode == "input" and isinstance(node.get("description"), str):
            described = self._describe(node["description"])
            if described:
                out["description"] = described
        if mode == "input" and isinstance(node.get("title"), str):
            out["title"] = node["title"]
        if "default" in node:
            out["default"] = node["default"]
        if node.get("deprecated") is True:
            out["deprecated"] = True
        if node.get("nullable") is True or node.get("x-nullable") is True:
            out["\0nullable"] = True
        return out

    def _bad_ref(self, exc: RefError, node: dict[str, Any], mode: Mode, ctx: Ctx, base: str) -> Converted:
        if exc.kind == "external":
            if not self._allow_external:
                raise ref_failure(exc)
            ctx.note(f"{exc.message}; left unresolved (any value accepted)")
            return Converted({"description": f"Unresolved external reference {exc.ref}"}, 1, 1)
        if exc.kind == "malformed":
            ctx.note(f"{exc.message}; replaced by an unconstrained schema")
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return self._node(rest, mode, ctx, base) if rest else Converted({}, 1, 1)
        if exc.kind == "unresolvable":
            raise SkipOperation(exc.message)
        raise ref_failure(exc)

    def _entry(self, target: Target, mode: Mode) -> Entry:
        k = (target.key, mode)
        found = self._entries.get(k)
        if found is not None:
            return found
        recursive = self._is_recursive(target.key, target)
        if k in self._busy:
            # Only reachable through a cycle the reference scan did not see (e.g. a `$ref` under
            # a keyword it skips): treat the definition as recursive from here on.
            self._recursive[target.key] = True
            return Entry(target.key, self._name(target.key), Converted({}, 1, 1), (), True)
        self._busy.add(k)
        try:
            ctx = Ctx()
            value = self._node(target.node, mode, ctx, target.base)
        finally:
            self._busy.discard(k)
        entry = Entry(target.key, self._name(target.key), value, tuple(ctx.notes),
                      recursive or self._recursive.get(target.key, False))
        self._entries[k] = entry
        return entry

    def _closure(self, root: Any, mode: Mode, ctx: Ctx) -> list[str]:
        """The definitions `root` refers to, directly or through each other, nearest first."""
        seen: set[str] = set()
        order: list[str] = []
        frontier = sorted(self._keys[n] for n in _refs(root) if n in self._keys)
        while frontier:
            nxt: list[str] = []
            for key in frontier:
                if key in seen or (key, mode) not in self._entries:
                    continue
                seen.add(key)
                order.append(key)
                entry = self._entries[(key, mode)]
                ctx.notes.extend(n for n in entry.notes if n not in ctx.notes)
                nxt.extend(sorted(k for k in self._direct(entry, mode) if k not in seen))
            frontier = nxt
        return order

    def _direct(self, entry: Entry, mode: Mode) -> frozenset[str]:
        """Keys of the definitions an entry's schema itself refers to (memoised: entries never change)."""
        found = self._direct_refs.get((entry.key, mode))
        if found is None:
            found = frozenset(self._keys[n] for n in _refs(entry.value.schema) if n in self._keys)
            self._direct_refs[(entry.key, mode)] = found
        return found

    # -- recursion detection (Tarjan over the raw reference graph) --------------------------

    def _is_recursive(self, key: str, target: Target) -> bool:
        known = self._recursive.get(key)
        if known is not None:
            return known
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        targets = {key: target}
        counter = 0
        work: list[tuple[str, int]] = [(key, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = self._edges_of(node, targets)
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i]
                if nxt in self._recursive and nxt not in index:
                    continue  # settled by an earlier search
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work and work[-1][0] != node:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                cyclic = len(component) > 1 or component[0] in self._edges_of(component[0], targets)
                for member in component:
                    self._recursive[member] = cyclic
        return self._recursive.get(key, False)

    def _edges_of(self, key: str, targets: dict[str, Target]) -> tuple[str, ...]:
        edges = self._edges.get(key)
        if edges is not None:
            return edges
        target = targets.get(key)
        if target is None:
            try:
                target = self.resolver.resolve(key)
            except RefError:
                self._edges[key] = ()
                return ()
        found: list[str] = []
        stack: list[tuple[Any, str]] = [(target.node, target.base)]
        while stack:
            node, base = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    try:
                        hit = self.resolver.resolve(ref, base)
                    except RefError:
                        hit = None
                    if hit is not None:
                        targets.setdefault(hit.key, hit)
                        if hit.key not in found:
                            found.append(hit.key)
                if isinstance(node.get("$id"), str):
                    base = Resolver._rebase(node, base)
                for k, v in node.items():
                    if isinstance(v, dict | list) and k not in _SKIP_SCAN and not (
                            isinstance(k, str) and k.startswith("x-")):
                        stack.append((v, base))
            elif isinstance(node, list):
                stack.extend((v, base) for v in node if isinstance(v, dict | list))
        self._edges[key] = edges = tuple(found)
        return edges

    # -- one schema node -------------------------------------------------------------------

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
        if len(parts) == 1 and converted_own is not None and not _object_like(converted_own.schema):
            # Kubernetes style: `allOf: [$ref]` with a description or default beside it.
            member = parts[0]
            if isinstance(member.schema, dict) and isinstance(converted_own.schema, dict):
                return Converted({**member.schema, **converted_own.schema}, member.size, member.depth)
            return member
        contents = [self.content(p, mode, ctx) for p in parts]
        own_schema = converted_own.schema if converted_own is not None else None
        everything = contents + ([own_schema] if own_schema is not None else [])
        if all(isinstance(c, dict) and (_object_like(c) or _annotation_only(c)) for c in everything):
            merged = _merge_objects(everything)
            if isinstance(own_schema, dict):  # the schema's own annotations win over its members'
                merged.update({k: v for k, v in own_schema.items() if k not in ("properties", "required", "type")})
            return Converted(merged, _count(merged), depth)
        out: dict[str, Any] = dict(converted_own.schema) if converted_own is not None and isinstance(
            converted_own.schema, dict) else {}
        out["allOf"] = [p.schema for p in parts]
        size = 1 + sum(p.size for p in parts) + (converted_own.size - 1 if converted_own else 0)
        return Converted(out, size, depth)

    # -- budget ----------------------------------------------------------------------------

    def _shrink(self, root: dict[str, Any], root_size: int, root_depth: int, order: list[str], mode: Mode,
                budget: int, ctx: Ctx) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
        """Keep the definitions nearest the root that fit; the rest become loose stubs."""
        if root_size > budget // 2 or root_depth > MAX_DEPTH:
            root = _shallow_properties(root)
            ctx.simplified = True
            ctx.note("schema too large or deep: nested property schemas reduced to their types")
            root_size = measure(root)[0]
            # The shallow root still refers to whatever it kept by `$ref`.
        kept: list[str] = []
        stubs: dict[str, Any] = {}
        used = root_size + len(order)  # every stub costs one node
        for key in order:
            entry = self._entries[(key, mode)]
            extra = entry.value.size - 1
            if used + extra <= budget and entry.value.depth + 1 <= MAX_DEPTH:
                kept.append(key)
                used += extra
            else:
                stubs[key] = _stub(entry.value.schema)
        if stubs:
            ctx.simplified = True
            ctx.note(f"schema too large: {len(stubs)} of {len(order)} referenced definitions reduced to their "
                     "types")
        return root, kept, stubs

    # -- small helpers ---------------------------------------------------------------------

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


def _object_like(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    return "properties" in schema or kind == "object" or (isinstance(kind, list) and "object" in kind)


def _annotation_only(schema: dict[str, Any]) -> bool:
    return set(schema) <= {"title", "description", "default", "deprecated", "examples", "required"}


def _merge_objects(parts: list[dict[str, Any]]) -> dict[str, Any]:
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


def _count(schema: Any) -> int:
    return measure(schema)[0]


def _refs(schema: Any) -> set[str]:
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


def _reachable(root: Any, defs: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    frontier = _refs(root)
    while frontier:
        name = frontier.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        frontier |= _refs(defs[name]) - seen
    return seen


def _stub(schema: Any) -> Any:
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


def _shallow_properties(root: dict[str, Any]) -> dict[str, Any]:
    props = root.get("properties")
    if not isinstance(props, dict):
        return root
    return {**root, "properties": {name: _stub(sub) if _count(sub) > 8 else sub for name, sub in props.items()}}


__all__ = ["Converted", "Ctx", "McpgwError", "Mode", "SchemaConverter"]
