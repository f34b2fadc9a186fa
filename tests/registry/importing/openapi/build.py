"""Small OpenAPI documents written inline for unit tests, and helpers to look at the result."""

from __future__ import annotations

from typing import Any

import msgspec
from mcpgw_registry.importing.openapi import ImportOptions, ImportResult, convert

from mcpgw.contracts.tools import ToolArg, ToolSpec

OK = {"200": {"description": "ok"}}


def openapi(paths: dict[str, Any], components: dict[str, Any] | None = None, *, version: str = "3.0.3",
            **extra: Any) -> bytes:
    doc: dict[str, Any] = {"openapi": version, "info": {"title": "t", "version": "1"},
                           "servers": [{"url": "https://api.example.com/v1"}], "paths": paths}
    if components is not None:
        doc["components"] = components
    doc.update(extra)
    return msgspec.json.encode(doc)


def swagger(paths: dict[str, Any], **extra: Any) -> bytes:
    doc: dict[str, Any] = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "host": "api.example.com",
                           "basePath": "/v2", "schemes": ["http", "https"], "paths": paths}
    doc.update(extra)
    return msgspec.json.encode(doc)


def run(raw: bytes | str, **options: Any) -> ImportResult:
    return convert(raw, ImportOptions(**options))


def only(result: ImportResult) -> ToolSpec:
    assert len(result.document.tools) == 1, [t.name for t in result.document.tools]
    return result.document.tools[0]


def tool(result: ImportResult, name: str) -> ToolSpec:
    return next(t for t in result.document.tools if t.name == name)


def args(spec: ToolSpec) -> dict[str, ToolArg]:
    return {a.name: a for a in spec.args}


def props(spec: ToolSpec) -> dict[str, Any]:
    assert spec.input_schema is not None
    properties: dict[str, Any] = spec.input_schema["properties"]
    return properties


def op(method: str = "get", **fields: Any) -> dict[str, Any]:
    return {method: {"responses": OK, **fields}}
