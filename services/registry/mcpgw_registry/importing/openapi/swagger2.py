"""Swagger 2.0 -> the OpenAPI 3 model (the mapping swagger2openapi / kin-openapi apply).

- `in: body` becomes the request body; its media type comes from `consumes` (operation, then
  document, then JSON).
- All `in: formData` parameters become one object body: multipart when `consumes` says so or a
  parameter is `type: file`, else form-urlencoded; each parameter's `required` moves into the
  object's `required`.
- Other parameters get their type keywords moved under `schema`; `collectionFormat` becomes
  style/explode (csv is 2.0's default for arrays).
- Response `schema` is the JSON content when `produces` allows JSON.
Schema-level differences (`x-nullable`, `type: file`, `#/definitions/...`) are handled by the
schema converter and the resolver directly.
"""

from __future__ import annotations

from typing import Any

from mcpgw_registry.importing.openapi import media
from mcpgw_registry.importing.openapi.operations import (
    LOCATIONS,
    Body,
    Operation,
    Param,
    Response,
    common,
    merge_parameters,
    parameter,
    status_order,
)
from mcpgw_registry.importing.openapi.problems import SkipOperation
from mcpgw_registry.importing.openapi.refs import DOC_BASE, RefError, Resolver

# Keywords of a 2.0 non-body parameter that describe its value (they move under `schema`).
_VALUE_KEYS = ("type", "format", "items", "enum", "default", "minimum", "maximum", "exclusiveMinimum",
               "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems",
               "multipleOf", "x-nullable")


def read2(doc: dict[str, Any], resolver: Resolver, method: str, path: str, item: dict[str, Any],
          raw: dict[str, Any]) -> Operation:
    op = common(method, path, item, raw)
    consumes = _list(raw.get("consumes")) or _list(doc.get("consumes")) or ["application/json"]
    found = merge_parameters(item.get("parameters"), raw.get("parameters"),
                             lambda p: parameter(resolver, p, DOC_BASE, op.notes))
    form: list[dict[str, Any]] = []
    for node, _base in found:
        where = node["in"]
        if where == "body":
            op.body = _body(node, consumes, op)
        elif where == "formData":
            form.append(node)
        elif where in LOCATIONS:
            op.params.append(_param(node, op))
        else:
            op.notes.append(f"parameter {node['name']!r} has an unknown location {where!r}; left out")
    if form:
        if op.body is not None:
            op.notes.append("both a body and formData parameters are declared; the formData ones are used")
        op.body = _form_body(form, consumes)
    produces = _list(raw.get("produces")) or _list(doc.get("produces"))
    op.response = _response(resolver, raw.get("responses"), produces, op)
    return op


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _value_schema(node: dict[str, Any]) -> dict[str, Any]:
    schema = {k: node[k] for k in _VALUE_KEYS if k in node}
    items = schema.get("items")
    if isinstance(items, dict) and "collectionFormat" in items:  # nested formats have no 3.x form
        schema["items"] = {k: v for k, v in items.items() if k != "collectionFormat"}
    if "type" not in schema:
        schema["type"] = "string"
    return schema


def _style(node: dict[str, Any], location: str, op: Operation) -> tuple[str | None, bool | None]:
    if node.get("type") != "array":
        return None, None
    fmt = node.get("collectionFormat", "csv")
    if fmt == "multi":
        if location in ("query", "formData"):
            return "form", True
        op.notes.append(f"parameter {node['name']!r}: collectionFormat multi is only valid in query or formData; "
                        "sent comma-separated")
        fmt = "csv"
    if fmt == "ssv":
        return "spaceDelimited", False
    if fmt == "pipes":
        return "pipeDelimited", False
    if fmt == "tsv":
        op.notes.append(f"parameter {node['name']!r}: collectionFormat tsv has no OpenAPI 3 equivalent; "
                        "sent comma-separated")
    # csv: `form` with explode false in a query or form body, `simple` (the default) elsewhere.
    return ("form", False) if location in ("query", "formData", "cookie") else ("simple", False)


def _param(node: dict[str, Any], op: Operation) -> Param:
    location = node["in"]
    style, explode = _style(node, location, op)
    return Param(
        name=node["name"],
        location=location,
        required=node.get("required") is True or location == "path",
        schema=_value_schema(node),
        description=node.get("description") if isinstance(node.get("description"), str) else None,
        style=style,
        explode=explode,
    )


def _body(node: dict[str, Any], consumes: list[str], op: Operation) -> Body:
    chosen = media.choose(consumes) or "application/json"
    if len(consumes) > 1:
        others = [m for m in consumes if m != chosen]
        op.notes.append(f"request body sent as {chosen} (also offered: {', '.join(others)})")
    if media.kind(chosen) in ("form", "multipart"):
        chosen = next((m for m in consumes if media.is_json(m)), "application/json")
    return Body(
        media_type=media.settle_wildcard(chosen, node.get("schema")),
        schema=node.get("schema", {}),
        required=node.get("required") is True,
        description=node.get("description") if isinstance(node.get("description"), str) else None,
        offered=tuple(consumes),
    )


def _form_body(params: list[dict[str, Any]], consumes: list[str]) -> Body:
    properties: dict[str, Any] = {}
    required: list[str] = []
    encoding: dict[str, dict[str, Any]] = {}
    has_file = False
    for node in params:
        name = node["name"]
        schema = _value_schema(node)
        if schema.get("type") == "file":
            has_file = True
        if isinstance(node.get("description"), str):
            schema["description"] = node["description"]
        properties[name] = schema
        if node.get("required") is True:
            required.append(name)
        if node.get("type") == "array":
            fmt = node.get("collectionFormat", "csv")
            style, explode = {"multi": ("form", True), "ssv": ("spaceDelimited", False),
                              "pipes": ("pipeDelimited", False)}.get(fmt, ("form", False))
            encoding[name] = {"style": style, "explode": explode}
    multipart = has_file or any(media.kind(m) == "multipart" for m in consumes)
    if multipart:
        media_type = next((m for m in consumes if media.kind(m) == "multipart"), "multipart/form-data")
    else:
        media_type = next((m for m in consumes if media.kind(m) == "form"), "application/x-www-form-urlencoded")
    body: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body["required"] = required
    return Body(media_type=media_type, schema=body, required=bool(required), encoding=encoding,
                offered=tuple(consumes))


def _response(resolver: Resolver, responses: Any, produces: list[str], op: Operation) -> Response | None:
    if not isinstance(responses, dict):
        return None
    if produces and not any(media.is_json(m) for m in produces):
        return None
    for code in status_order(responses):
        try:
            target = resolver.deref(responses[code])
        except RefError as exc:
            if exc.kind == "unresolvable":
                raise SkipOperation(exc.message) from None
            op.notes.append(f"response {code}: {exc.message}")
            continue
        node = target.node
        if isinstance(node, dict) and "schema" in node:
            return Response(node["schema"], target.base)
        return None
    return None
