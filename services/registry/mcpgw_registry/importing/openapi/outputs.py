"""`outputSchema` from the success response, and tool annotations from the HTTP method."""

from __future__ import annotations

from typing import Any

from mcpgw_registry.importing.openapi.operations import Response
from mcpgw_registry.importing.openapi.schemas import OUTPUT_BUDGET, Ctx, SchemaConverter

# MCP hints by method (GET and the other safe methods read; PUT and DELETE replace or remove and
# can be repeated; PATCH changes in place; POST creates). Every backend is outside the gateway.
_HINTS: dict[str, tuple[bool, bool, bool]] = {  # readOnly, destructive, idempotent
    "GET": (True, False, True),
    "HEAD": (True, False, True),
    "OPTIONS": (True, False, True),
    "PUT": (False, True, True),
    "DELETE": (False, True, True),
    "PATCH": (False, True, False),
    "POST": (False, False, False),
}


def hints(method: str) -> dict[str, Any]:
    read_only, destructive, idempotent = _HINTS.get(method.upper(), (False, True, False))
    return {"readOnlyHint": read_only, "destructiveHint": destructive, "idempotentHint": idempotent,
            "openWorldHint": True}


def output_schema(response: Response | None, conv: SchemaConverter) -> tuple[dict[str, Any] | None, Ctx]:
    """An object schema for structuredContent: the JSON answer itself, or `{result: …}` around it.

    toolexec wraps a non-object answer the same way, so the two always agree. A schema that
    cannot say whether the answer is an object (`{}`, mixed unions) gives no output schema:
    a wrong one would fail clients that validate structured results.
    """
    ctx = Ctx()
    if response is None:
        return None, ctx
    converted = conv.convert(response.schema, "output", ctx, response.base)
    root = conv.content(converted, "output", ctx)
    shape = _shape(root)
    if shape == "object":
        schema = dict(root)
        schema["type"] = "object"
        schema.setdefault("properties", {})
    elif shape == "other":
        schema = {"type": "object", "properties": {"result": converted.schema}, "required": ["result"]}
    else:
        return None, ctx
    return conv.finish(schema, "output", ctx, OUTPUT_BUDGET), ctx


def _shape(root: Any) -> str:
    if not isinstance(root, dict):
        return "unknown"
    kind = root.get("type")
    kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str) and k != "null"]
    if kinds == ["object"] or (not kinds and "properties" in root):
        return "object"
    if kinds and "object" not in kinds:
        return "other"
    variants = root.get("anyOf")
    if not kinds and isinstance(variants, list) and variants and all(_shape(v) == "object" for v in variants):
        return "object"
    return "unknown"
