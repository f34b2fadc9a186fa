"""OpenAPI schemas (2.0, 3.0, 3.1) -> JSON Schema 2020-12 as MCP clients accept it.

Per node (`schema_nodes`): `nullable` / `x-nullable` become type unions, `oneOf` becomes `anyOf`,
object `allOf` members are merged, OpenAPI-only keywords are dropped, arrays always get `items`,
and `readOnly` properties leave input schemas (`writeOnly` ones leave output schemas).

References: every referenced schema is converted once per mode and memoised. Small,
non-recursive ones are inlined (many clients cannot follow `$ref`); recursive or large ones go
to the tool schema's `$defs`, and each tool carries only the definitions it reaches. Whether a
definition is recursive is decided on the whole reference graph (`schema_graph`), not on the
order operations happen to be visited in, so a tool's schema depends only on what it references.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from mcpgw.contracts.errors import McpgwError
from mcpgw_registry.importing.openapi.problems import SkipOperation, ref_failure
from mcpgw_registry.importing.openapi.refs import DOC_BASE, RefError, Resolver, Target
from mcpgw_registry.importing.openapi.schema_graph import ReferenceGraph
from mcpgw_registry.importing.openapi.schema_nodes import Converted, Ctx, Mode, NodeConverter
from mcpgw_registry.importing.openapi.schema_tree import measure, reachable, refs, shallow_properties, stub

# A referenced schema this small (in subschemas) is copied where it is used rather than
# referenced: most tool schemas then need no `$defs` at all.
INLINE_MAX = 40
# The registry refuses tool schemas over 4096 subschemas or 64 levels deep.
INPUT_BUDGET = 3000
OUTPUT_BUDGET = 400
MAX_DEPTH = 60
_ANNOTATIONS = ("title", "description", "default", "deprecated", "examples")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(slots=True)
class Entry:
    key: str
    name: str
    value: Converted
    notes: tuple[str, ...]
    recursive: bool


class SchemaConverter(NodeConverter):
    def __init__(self, resolver: Resolver, *, description_limit: int, allow_external: bool) -> None:
        super().__init__(resolver, description_limit=description_limit)
        self._graph = ReferenceGraph(resolver)
        self._allow_external = allow_external
        self._entries: dict[tuple[str, Mode], Entry] = {}
        self._busy: set[tuple[str, Mode]] = set()
        self._names: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        self._direct_refs: dict[tuple[str, Mode], frozenset[str]] = {}

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
            reached = reachable(root, kept)
            order = [k for k in order if self._name(k) in reached]
            stubs = {k: v for k, v in stubs.items() if self._name(k) in reached}
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
        recursive = self._graph.is_recursive(target.key, target)
        if k in self._busy:
            # Only reachable through a cycle the reference scan did not see (e.g. a `$ref` under
            # a keyword it skips): treat the definition as recursive from here on.
            self._graph.mark_recursive(target.key)
            return Entry(target.key, self._name(target.key), Converted({}, 1, 1), (), True)
        self._busy.add(k)
        try:
            ctx = Ctx()
            value = self._node(target.node, mode, ctx, target.base)
        finally:
            self._busy.discard(k)
        entry = Entry(target.key, self._name(target.key), value, tuple(ctx.notes),
                      recursive or self._graph.known_recursive(target.key))
        self._entries[k] = entry
        return entry

    def _closure(self, root: Any, mode: Mode, ctx: Ctx) -> list[str]:
        """The definitions `root` refers to, directly or through each other, nearest first."""
        seen: set[str] = set()
        order: list[str] = []
        frontier = sorted(self._keys[n] for n in refs(root) if n in self._keys)
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
            found = frozenset(self._keys[n] for n in refs(entry.value.schema) if n in self._keys)
            self._direct_refs[(entry.key, mode)] = found
        return found

    # -- budget ----------------------------------------------------------------------------

    def _shrink(self, root: dict[str, Any], root_size: int, root_depth: int, order: list[str], mode: Mode,
                budget: int, ctx: Ctx) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
        """Keep the definitions nearest the root that fit; the rest become loose stubs."""
        if root_size > budget // 2 or root_depth > MAX_DEPTH:
            root = shallow_properties(root)
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
                stubs[key] = stub(entry.value.schema)
        if stubs:
            ctx.simplified = True
            ctx.note(f"schema too large: {len(stubs)} of {len(order)} referenced definitions reduced to their "
                     "types")
        return root, kept, stubs


__all__ = ["Converted", "Ctx", "McpgwError", "Mode", "SchemaConverter"]
