"""A server's kind and the checks of its kind's fields that need nothing but the record.

The kind follows from `type` and `protocol`: `AssemblyMCP` draws tools from other servers,
`RealMCP` over SSE or Streamable HTTP is an existing MCP server the gateway hosts, and anything
else is a REST API converted to MCP tools.
"""

from __future__ import annotations

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.registry import ServerKind

HOSTED_PROTOCOLS = ("SSE", "StreamableHTTP")

# Which createFromType values fit each kind; the first is the default.
FROM_TYPES: dict[ServerKind, tuple[str, ...]] = {
    "rest": ("ApiGatewayHttpToMCP", "NacosHttpToMCP"),
    # The reference spells the direct-proxy value both ways; both mean the same.
    "hosted": ("ApiGatewayMcpHosting", "ApiGatewayProxyMcpHosting", "NacosMcpHosting"),
    "assembly": ("ApiGatewayAssembly",),
}


def kind_of(server_type: str, protocol: str) -> ServerKind:
    if server_type == "AssemblyMCP":
        return "assembly"
    if protocol in HOSTED_PROTOCOLS:
        return "hosted"
    return "rest"


def default_from_type(kind: ServerKind) -> str:
    return FROM_TYPES[kind][0]


def describe(kind: ServerKind, protocol: str) -> str:
    """How error messages name a kind."""
    if kind == "assembly":
        return "an assembly (type AssemblyMCP)"
    if kind == "hosted":
        return f"a hosted MCP server (protocol {protocol})"
    return f"a REST-converted MCP server (protocol {protocol})"


def check_from_type(kind: ServerKind, protocol: str, from_type: str) -> None:
    allowed = FROM_TYPES[kind]
    if from_type not in allowed:
        raise invalid("createFromType", f"{from_type} does not fit {describe(kind, protocol)}; "
                                        f"use {' or '.join(allowed)}")


def check_tools_allowed(kind: ServerKind, has_tools: bool, field: str) -> None:
    """Only a REST-converted server has a tools document of its own."""
    if not has_tools:
        return
    if kind == "hosted":
        raise invalid(field, "a hosted MCP server has no tools document: its tools come from the upstream "
                             "MCP server (remove mcpServerConfig, or send it as null to drop stored tools)")
    if kind == "assembly":
        raise invalid(field, "an assembly has no tools document: its tools come from assembledSources "
                             "(remove mcpServerConfig, or send it as null to drop stored tools)")
