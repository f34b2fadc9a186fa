"""One flat `inputSchema` over path, query, header, cookie and body fields, plus the parameter map.

Body fields keep their names; a parameter whose name clashes with a body field or with a
parameter elsewhere gets a location suffix (`id__path`, FastMCP's convention), so nothing is
dropped or overwritten. The map (`ToolArg`s) says where each argument goes and under which name,
so execution never guesses. A body that is not an object becomes one argument, `body`, sent as
the whole payload (wire name `$body`).

Header parameters of a primitive type (string, integer, boolean) are annotated `x-mcp-header`
with their header name (MCP 2026-07-28, SEP-2243): clients mirror their values into
`Mcp-Param-<name>` so intermediaries can route on them, and the edge checks the mirror against
the body. Credentials (by name) are never mirrored: header values are visible on the way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mcpgw.contracts.tools import ArgType, ToolArg
from mcpgw.http_names import is_token
from mcpgw.json_schema import ARG_TYPES, HEADER_TYPES, X_MCP_HEADER
from mcpgw_registry.importing.openapi import media, naming, sendable, text
from mcpgw_registry.importing.openapi.operations import Body, Operation, Param
from mcpgw_registry.importing.openapi.schemas import INPUT_BUDGET, Ctx, SchemaConverter

WHOLE_BODY = "$body"
BODY_ARG = "body"
_LOCATION_LABEL = {"path": "Path", "query": "Query", "header": "Header", "cookie": "Cookie", "body": "Body"}
# Header names that carry a credential: the spec says such values SHOULD NOT be mirrored.
_SECRET_HEADER = re.compile(r"auth|token|secret|passw|api[-_]?key|cookie|credential|signature|session",
                            re.IGNORECASE)


@dataclass(slots=True)
class Field:
    """One argument before naming: where it goes and what it accepts."""

    wire: str
    location: str  # path | query | header | cookie | body
    schema: Any
    required: bool
    description: str = ""
    style: str | None = None
    explode: bool | None = None
    binary: bool = False
    deprecated: bool = False
    arg: str = ""  # filled in by naming


@dataclass(slots=True)
class Inputs:
    schema: dict[str, Any]
    args: list[ToolArg]
    path_args: dict[str, str]  # path placeholder -> argument name
    body_media_type: str | None
    notes: list[str] = field(default_factory=list)


def build(op: Operation, params: list[Param], conv: SchemaConverter, ctx: Ctx, limit: int,
          hide_body_field: Any) -> Inputs:
    notes: list[str] = []
    fields = _path_fields(op, params, conv, ctx, limit, notes) + [
        _param_field(p, conv, ctx, limit) for p in params if p.location != "path"]
    body_fields: list[Field] = []
    media_type: str | None = None
    if op.body is not None:
        body_fields, media_type = _body_fields(op.body, conv, ctx, limit, notes, hide_body_field)
    _name(fields, body_fields)
    everything = fields + body_fields
    properties: dict[str, Any] = {}
    required: list[str] = []
    args: list[ToolArg] = []
    for f in everything:
        properties[f.arg] = _property(f)
        if f.required:
            required.append(f.arg)
        args.append(_tool_arg(f, properties[f.arg]))
    root: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        root["required"] = required
    schema = _mirror_headers(conv.finish(root, "input", ctx, INPUT_BUDGET), fields, notes)
    path_args = {f.wire: f.arg for f in fields if f.location == "path"}
    return Inputs(schema, args, path_args, media_type, notes)


# -- parameters ----------------------------------------------------------------------------


def _path_fields(op: Operation, params: list[Param], conv: SchemaConverter, ctx: Ctx, limit: int,
                 notes: list[str]) -> list[Field]:
    """Path parameters in placeholder order; every placeholder gets one, none is left dangling."""
    declared = {p.name: p for p in params if p.location == "path"}
    out: list[Field] = []
    placeholders = sendable.placeholders(op.path)
    for name in placeholders:
        param = declared.get(name)
        if param is None:
            notes.append(f"path placeholder {{{name}}} has no parameter; added as a required string")
            out.append(Field(wire=name, location="path", schema={"type": "string"}, required=True))
        else:
            out.append(_param_field(param, conv, ctx, limit))
    for name in declared:
        if name not in placeholders:
            notes.append(f"path parameter {name!r} does not appear in the path; left out")
    return out


def _param_field(param: Param, conv: SchemaConverter, ctx: Ctx, limit: int) -> Field:
    converted = conv.convert(param.schema, "input", ctx, param.base)
    schema = converted.schema
    if param.location == "header" and isinstance(schema, dict) and "$ref" in schema:
        # A header typed by a named primitive (`$ref: '#/components/schemas/RequestId'`) is
        # inlined: `x-mcp-header` needs the property's own `type`.
        inlined = conv.content(converted, "input", ctx)
        if isinstance(inlined, dict) and _primitive(inlined):
            schema = inlined
    return Field(wire=param.name, location=param.location, schema=schema, required=param.required,
                 description=text.clean(param.description, limit), style=param.style, explode=param.explode,
                 deprecated=param.deprecated)


# -- the request body ----------------------------------------------------------------------


def _body_fields(body: Body, conv: SchemaConverter, ctx: Ctx, limit: int, notes: list[str],
                 hide_body_field: Any) -> tuple[list[Field], str]:
    kind = media.kind(body.media_type)
    media_type = media.wire_type(body.media_type)
    description = text.clean(body.description, limit)
    if kind == "binary":
        schema = {"type": "string", "contentEncoding": "base64",
                  "description": _join(description, "The request body: the raw bytes, base64-encoded.")}
        return [Field(WHOLE_BODY, "body", schema, body.required, binary=True, arg=BODY_ARG)], media_type
    converted = conv.convert(body.schema, "input", ctx, body.base)
    root = conv.content(converted, "input", ctx)
    if kind in ("text", "xml"):
        schema = root if isinstance(root, dict) and root.get("type") == "string" else {"type": "string"}
        schema = {**schema, "description": _join(description or _desc(schema),
                                                 f"The request body, sent as {media_type}.")}
        return [Field(WHOLE_BODY, "body", schema, body.required, arg=BODY_ARG)], media_type
    properties, required = _object_parts(root, notes)
    if properties is None:
        schema = converted.schema
        wrapped = {**schema, "description": _join(description or _desc(schema), "The whole request body.")} \
            if isinstance(schema, dict) else schema
        return [Field(WHOLE_BODY, "body", wrapped, body.required, arg=BODY_ARG)], media_type
    fields: list[Field] = []
    for name, schema in properties.items():
        if hide_body_field(name) or not sendable.body_field(name, body.required and name in required, notes):
            continue
        encoding = body.encoding.get(name, {})
        style = encoding.get("style") if isinstance(encoding.get("style"), str) else None
        explode = encoding.get("explode") if isinstance(encoding.get("explode"), bool) else None
        binary = False
        if kind == "multipart":
            schema, binary = _file_part(schema, encoding.get("contentType"))
        fields.append(Field(wire=name, location="body", schema=schema,
                            required=body.required and name in required,
                            style=style, explode=explode, binary=binary))
    return fields, media_type


def _object_parts(root: Any, notes: list[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """(properties, required) of an object body; (None, []) when the body must be wrapped."""
    if not isinstance(root, dict):
        return None, []
    props = root.get("properties")
    if isinstance(props, dict) and props:
        required = root.get("required")
        return props, required if isinstance(required, list) else []
    if isinstance(props, dict) and root.get("additionalProperties") is False:
        return {}, []  # an object that admits nothing (Stripe's GET bodies): no arguments
    variants = root.get("anyOf")
    if isinstance(variants, list) and variants and all(
            isinstance(v, dict) and isinstance(v.get("properties"), dict) for v in variants):
        # A union at the root cannot be an MCP inputSchema: offer every variant's fields, none
        # required, and let the backend judge the combination.
        merged: dict[str, Any] = {}
        for v in variants:
            for name, sub in v["properties"].items():
                merged.setdefault(name, sub)
        notes.append(f"the request body is one of {len(variants)} shapes; their fields are offered together, "
                     "none required")
        return merged, []
    return None, []


def _file_part(schema: Any, content_type: Any) -> tuple[Any, bool]:
    """A multipart file field: base64 text in the arguments, decoded into a file part on the way out."""
    if not isinstance(schema, dict):
        return schema, False
    declared = isinstance(content_type, str) and media.kind(content_type.split(",")[0]) == "binary"
    if _is_binary(schema) or (declared and schema.get("type") in ("string", None)):
        return _base64(schema), True
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict) and _is_binary(items):
        return {**schema, "items": _base64(items)}, True
    return schema, False


def _is_binary(schema: dict[str, Any]) -> bool:
    if schema.get("format") == "binary":
        return True
    cmt = schema.get("contentMediaType")
    return isinstance(cmt, str) and schema.get("type") in ("string", None) and media.kind(cmt) == "binary" \
        and "contentEncoding" not in schema


def _base64(schema: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in schema.items() if k not in ("format", "contentMediaType")}
    out["type"] = "string"
    out["contentEncoding"] = "base64"
    out["description"] = _join(_desc(schema), "File content, base64-encoded.")
    return out


# -- headers mirrored by clients (x-mcp-header) --------------------------------------------


def _mirror_headers(schema: dict[str, Any], fields: list[Field], notes: list[str]) -> dict[str, Any]:
    """`schema` with `x-mcp-header` on each header parameter's property that may carry it."""
    props = schema.get("properties")
    if not isinstance(props, dict):
        return schema
    annotated: dict[str, Any] = {}
    seen: dict[str, str] = {}  # header name, lower case -> as declared
    for f in fields:
        if f.location != "header":
            continue
        prop = props.get(f.arg)
        if not isinstance(prop, dict) or not _primitive(prop) or X_MCP_HEADER in prop:
            continue  # arrays, objects, numbers and nullable values are not mirrored
        if _SECRET_HEADER.search(f.wire) or prop.get("format") == "password":
            continue
        if not is_token(f.wire):
            notes.append(f"header parameter {f.wire!r} is not a valid HTTP header name; clients do not mirror it "
                         f"({X_MCP_HEADER})")
            continue
        lower = f.wire.lower()
        if lower in seen:
            notes.append(f"header parameter {f.wire!r} is the same header as {seen[lower]!r}; clients mirror only "
                         f"the first ({X_MCP_HEADER})")
            continue
        seen[lower] = f.wire
        annotated[f.arg] = {**prop, X_MCP_HEADER: f.wire}
    if not annotated:
        return schema
    return {**schema, "properties": {name: annotated.get(name, prop) for name, prop in props.items()}}


def _primitive(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return isinstance(kind, str) and kind in HEADER_TYPES


# -- names ---------------------------------------------------------------------------------


def _name(params: list[Field], body: list[Field]) -> None:
    """Argument names: body fields keep theirs; clashing parameters get a location suffix.

    A name that had to be cleaned (`a b` -> `a_b`) yields to one that is already valid, whatever
    their order: it is named after the valid ones, and on a clash its description says which
    parameter it is (`(Query parameter 'a b')`), so two parameters never silently share a name.
    """
    taken: set[str] = set()
    valid, cleaned = _split(body)
    for f in valid + cleaned:
        name = f.arg or naming.arg_name(f.wire)
        if name in taken:
            name = naming.fit(f"{name}_{naming.digest('body:' + f.wire, 6)}", f.wire, naming.MAX_ARG_NAME)
            _label(f)
        f.arg = name
        taken.add(name)
    for group in _split(params):
        wanted = [naming.arg_name(f.wire) for f in group]
        for f, name in zip(group, wanted, strict=True):
            clash = name in taken or wanted.count(name) > 1
            if clash:
                name = naming.fit(f"{name}__{f.location}", f.wire, naming.MAX_ARG_NAME)
                _label(f)
            if name in taken:
                name = naming.fit(f"{name}_{naming.digest(f.location + ':' + f.wire, 6)}", f.wire + f.location,
                                  naming.MAX_ARG_NAME)
            f.arg = name
            taken.add(name)


def _split(fields: list[Field]) -> tuple[list[Field], list[Field]]:
    """(fields whose names are valid argument names, fields whose names need cleaning).

    The second list is sorted, so which of two cleaned names gets the plain form does not
    depend on where they sit in the document.
    """
    valid = [f for f in fields if naming.arg_name(f.wire) == f.wire]
    cleaned = [f for f in fields if naming.arg_name(f.wire) != f.wire]
    return valid, sorted(cleaned, key=lambda f: (f.wire, f.location))


def _label(f: Field) -> None:
    """Say in the description where a renamed argument goes (and under which name, if cleaned)."""
    where = f"{_LOCATION_LABEL[f.location]} {'field' if f.location == 'body' else 'parameter'}"
    if naming.arg_name(f.wire) != f.wire:
        where += f" {f.wire!r}"
    if f.location == "body":
        if isinstance(f.schema, dict):
            f.schema = {**f.schema, "description": f"{_desc(f.schema)} ({where})".lstrip()}
        return
    f.description = f"{f.description} ({where})".lstrip()


# -- output --------------------------------------------------------------------------------


def _property(f: Field) -> Any:
    schema = f.schema
    if not isinstance(schema, dict):
        return schema
    extra: dict[str, Any] = {}
    if f.description:
        extra["description"] = f.description
    if f.deprecated:
        extra["deprecated"] = True
    return {**schema, **extra} if extra else schema


def _tool_arg(f: Field, schema: Any) -> ToolArg:
    arg = ToolArg(name=f.arg, position=f.location, required=f.required)  # type: ignore[arg-type]
    kind = _arg_type(schema)
    if kind is not None:
        arg.type = kind
    if f.wire != f.arg:
        arg.wire_name = f.wire
    style, explode = _serialisation(f, kind)
    arg.style = style  # type: ignore[assignment]
    arg.explode = explode
    if f.binary:
        arg.format = "binary"
    return arg


def _serialisation(f: Field, kind: ArgType | None) -> tuple[str | None, bool | None]:
    """Style and explode only where they differ from what toolexec does without them."""
    style, explode = f.style, f.explode
    if f.location == "query":
        style = style or "form"
        explode = explode if explode is not None else style == "form"
        if style == "form" and explode and kind != "object":
            return None, None  # arrays repeat the key: toolexec's default
        if style == "deepObject":
            return "deepObject", None
        return style, explode
    if f.location == "path":
        style = style or "simple"
        explode = bool(explode)
        return (None if style == "simple" else style), (True if explode else None)
    if f.location == "header":
        return None, (True if explode else None)
    if f.location == "body":
        if style is None and explode is None:
            return None, None
        return style or "form", explode
    return None, None


def _arg_type(schema: Any) -> ArgType | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    return kind if isinstance(kind, str) and kind in ARG_TYPES else None  # type: ignore[return-value]


def _desc(schema: Any) -> str:
    return schema.get("description", "") if isinstance(schema, dict) else ""


def _join(first: str, second: str) -> str:
    first = first.rstrip()
    if not first:
        return second
    return f"{first} {second}" if first[-1] in ".!?:)" else f"{first}. {second}"
