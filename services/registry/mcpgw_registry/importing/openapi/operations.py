"""The document's operations in one shape, whatever the OpenAPI version.

OpenAPI 3.x operations are read here; Swagger 2.0 parameters, bodies and responses are
normalised by `swagger2` into the same `Param` / `Body` / `Response` values, so everything
downstream knows a single model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mcpgw_registry.importing.openapi import media
from mcpgw_registry.importing.openapi.problems import SkipOperation, ref_failure
from mcpgw_registry.importing.openapi.refs import DOC_BASE, RefError, Resolver

# Methods that become tools, in the order a path item lists them; the others are counted and
# reported as skipped.
TOOL_METHODS = ("get", "put", "post", "delete", "patch")
OTHER_METHODS = ("options", "head", "trace")
ALL_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LOCATIONS = ("path", "query", "header", "cookie")


@dataclass(slots=True)
class Param:
    name: str
    location: str  # path | query | header | cookie
    required: bool
    schema: Any
    base: str = DOC_BASE
    description: str | None = None
    style: str | None = None
    explode: bool | None = None
    deprecated: bool = False


@dataclass(slots=True)
class Body:
    media_type: str  # the one chosen
    schema: Any
    required: bool
    base: str = DOC_BASE
    description: str | None = None
    # Per top-level property: OpenAPI `encoding` (style / explode / contentType).
    encoding: dict[str, dict[str, Any]] = field(default_factory=dict)
    offered: tuple[str, ...] = ()


@dataclass(slots=True)
class Response:
    schema: Any
    base: str = DOC_BASE


@dataclass(slots=True)
class Operation:
    method: str  # upper case
    path: str
    raw: dict[str, Any]
    operation_id: str | None = None
    summary: Any = None
    description: Any = None
    deprecated: bool = False
    params: list[Param] = field(default_factory=list)
    body: Body | None = None
    response: Response | None = None
    security: Any = None  # the operation's own `security`, None to inherit the document's
    servers: Any = None  # operation- or path-level `servers`
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def path_items(doc: dict[str, Any], resolver: Resolver) -> Iterator[tuple[str, dict[str, Any], str]]:
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        return
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        base = DOC_BASE
        if "$ref" in item:
            try:
                target = resolver.deref(item)
            except RefError as exc:
                raise ref_failure(exc) from None
            if not isinstance(target.node, dict):
                continue
            item, base = {**target.node, **{k: v for k, v in item.items() if k != "$ref"}}, target.base
        yield str(path), item, base


def parameter(resolver: Resolver, raw: Any, base: str, notes: list[str]) -> tuple[dict[str, Any], str] | None:
    """A parameter object with its reference resolved, or None (with a note) when it is unusable."""
    try:
        target = resolver.deref(raw, base)
    except RefError as exc:
        if exc.kind in ("malformed",):
            notes.append(f"parameter {exc.message}; left out")
            return None
        if exc.kind == "unresolvable":
            raise SkipOperation(exc.message) from None
        raise ref_failure(exc) from None
    node = target.node
    if not isinstance(node, dict) or not isinstance(node.get("name"), str) or not isinstance(node.get("in"), str):
        notes.append("a parameter without `name` or `in` was left out")
        return None
    return node, target.base


def merge_parameters(item_params: Any, op_params: Any, resolve: Any) -> list[Any]:
    """Path-item parameters, overridden by operation parameters with the same (in, name)."""
    merged: dict[tuple[str, str], Any] = {}
    for group in (item_params, op_params):
        if not isinstance(group, list):
            continue
        for raw in group:
            found = resolve(raw)
            if found is None:
                continue
            node = found[0]
            name = node["name"].lower() if node["in"] == "header" else node["name"]
            merged[(node["in"], name)] = found
    return list(merged.values())


def read3(resolver: Resolver, method: str, path: str, item: dict[str, Any], item_base: str,
          raw: dict[str, Any]) -> Operation:
    op = common(method, path, item, raw)
    found = merge_parameters(item.get("parameters"), raw.get("parameters"),
                             lambda p: parameter(resolver, p, item_base, op.notes))
    for node, base in found:
        param = _param3(node, base, op.notes)
        if param is not None:
            op.params.append(param)
    if "requestBody" in raw:
        op.body = _body3(resolver, raw["requestBody"], item_base, op)
    op.response = _response3(resolver, raw.get("responses"), item_base, op)
    return op


def common(method: str, path: str, item: dict[str, Any], raw: dict[str, Any]) -> Operation:
    op_id = raw.get("operationId")
    return Operation(
        method=method.upper(),
        path=path,
        raw=raw,
        operation_id=op_id.strip() or None if isinstance(op_id, str) else None,
        summary=raw.get("summary") if raw.get("summary") is not None else item.get("summary"),
        description=raw.get("description") if raw.get("description") is not None else item.get("description"),
        deprecated=raw.get("deprecated") is True,
        security=raw.get("security"),
        servers=raw.get("servers") if raw.get("servers") else item.get("servers") or None,
    )


def _param3(node: dict[str, Any], base: str, notes: list[str]) -> Param | None:
    location = node["in"]
    if location not in LOCATIONS:
        notes.append(f"parameter {node['name']!r} has an unknown location {location!r}; left out")
        return None
    schema = node.get("schema")
    if schema is None and isinstance(node.get("content"), dict) and node["content"]:
        # A parameter described by a media type: its value travels JSON-serialised.
        first = next(iter(node["content"].values()))
        schema = first.get("schema") if isinstance(first, dict) else None
    explode = node.get("explode")
    return Param(
        name=node["name"],
        location=location,
        required=node.get("required") is True or location == "path",
        schema=schema if isinstance(schema, dict | bool) else {"type": "string"},
        base=base,
        description=node.get("description") if isinstance(node.get("description"), str) else None,
        style=node.get("style") if isinstance(node.get("style"), str) else None,
        explode=explode if isinstance(explode, bool) else None,
        deprecated=node.get("deprecated") is True,
    )


def _body3(resolver: Resolver, raw: Any, base: str, op: Operation) -> Body | None:
    try:
        target = resolver.deref(raw, base)
    except RefError as exc:
        if exc.kind == "unresolvable":
            raise SkipOperation(exc.message) from None
        raise ref_failure(exc) from None
    node = target.node
    if not isinstance(node, dict) or not isinstance(node.get("content"), dict) or not node["content"]:
        return None
    content = {str(k): v for k, v in node["content"].items() if isinstance(v, dict)}
    chosen = media.choose(list(content))
    if chosen is None:
        return None
    entry = content[chosen]
    encoding = entry.get("encoding")
    body = Body(
        media_type=media.settle_wildcard(chosen, entry.get("schema")),
        schema=entry.get("schema", {}),
        required=node.get("required") is True,
        base=target.base,
        description=node.get("description") if isinstance(node.get("description"), str) else None,
        encoding={str(k): v for k, v in encoding.items() if isinstance(v, dict)} if isinstance(encoding, dict)
        else {},
        offered=tuple(content),
    )
    if len(content) > 1:
        others = [m for m in content if m != chosen]
        op.notes.append(f"request body sent as {chosen} (also offered: {', '.join(others)})")
    return body


def status_order(responses: dict[Any, Any]) -> list[Any]:
    """200, then 201, then the other 2xx in order: where an output schema is looked for."""
    codes = [k for k in responses if str(k).strip().upper().startswith("2")]
    return sorted(codes, key=lambda k: (str(k) != "200", str(k) != "201", str(k)))


def _response3(resolver: Resolver, responses: Any, base: str, op: Operation) -> Response | None:
    if not isinstance(responses, dict):
        return None
    for code in status_order(responses):
        try:
            target = resolver.deref(responses[code], base)
        except RefError as exc:
            op.notes.append(f"response {code}: {exc.message}")
            continue
        node = target.node
        content = node.get("content") if isinstance(node, dict) else None
        if not isinstance(content, dict):
            return None  # e.g. 204: the first success answer has no body, so no output schema
        json_type = next((m for m in content if media.is_json(str(m))), None)
        if json_type is None:
            return None
        entry = content[json_type]
        if isinstance(entry, dict) and "schema" in entry:
            return Response(entry["schema"], target.base)
        return None
    return None
