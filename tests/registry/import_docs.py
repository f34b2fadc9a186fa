"""Hand-made generated tools documents (what the OpenAPI converter produces), for the merge logic."""

from __future__ import annotations

from typing import Any

import msgspec

from mcpgw.contracts.tools import (
    RequestTemplate,
    SecurityScheme,
    ServerBlock,
    ToolArg,
    ToolsDocument,
    ToolSource,
    ToolSpec,
)

BASE = "https://api.example.com"


def op(method: str, path: str, name: str, *, description: str = "", operation_id: str | None = None,
       args: list[ToolArg] | None = None, schema: bool = True) -> ToolSpec:
    """One generated tool; `schema` adds the explicit flat inputSchema the converter writes."""
    args = args or []
    input_schema: dict[str, Any] | None = None
    if schema:
        props: dict[str, Any] = {}
        for a in args:
            prop: dict[str, Any] = {"type": a.type}
            if a.default is not msgspec.UNSET:
                prop["default"] = a.default
            props[a.name] = prop
        input_schema = {"type": "object", "properties": props}
        required = [a.name for a in args if a.required]
        if required:
            input_schema["required"] = required
    url = BASE + path
    return ToolSpec(name=name, description=description, args=args, input_schema=input_schema,
                    request_template=RequestTemplate(url=url, method=method),
                    source=ToolSource(method=method, path=path, operation_id=operation_id or name))


def doc(*tools: ToolSpec) -> ToolsDocument:
    return ToolsDocument(server=ServerBlock(name="pets", config={"baseUrl": BASE},
                                            security_schemes=[SecurityScheme(id="key", type="apiKey", in_="header",
                                                                             name="X-Key")]),
                         tools=list(tools))


def v1() -> ToolsDocument:
    return doc(
        op("GET", "/pets", "listPets", description="List pets",
           args=[ToolArg(name="limit", type="integer", position="query", default=20),
                 ToolArg(name="tenant", type="string", position="header")]),
        op("GET", "/pets/{id}", "getPet", description="Get a pet",
           args=[ToolArg(name="id", type="integer", position="path", required=True)]),
        op("DELETE", "/pets/{id}", "deletePet", description="Delete a pet",
           args=[ToolArg(name="id", type="integer", position="path", required=True)]),
    )


def v2() -> ToolsDocument:
    """v1 with POST /pets added, GET /pets/{id} changed (new operationId and a query arg), DELETE removed."""
    return doc(
        op("GET", "/pets", "listPets", description="List pets",
           args=[ToolArg(name="limit", type="integer", position="query", default=20),
                 ToolArg(name="tenant", type="string", position="header")]),
        op("GET", "/pets/{id}", "showPetById", description="Get a pet",
           args=[ToolArg(name="id", type="integer", position="path", required=True),
                 ToolArg(name="fields", type="string", position="query")]),
        op("POST", "/pets", "createPet", description="Create a pet",
           args=[ToolArg(name="name", type="string", position="body", required=True)]),
    )
