"""MCP protocol revisions mcpgw speaks, one list for the edge (to clients) and hosting (to upstreams)."""

from __future__ import annotations

import base64

# The handshake era's revisions, newest first. 2026-07-28 (MODERN_VERSION: stateless, `server/discover`)
# is served beside them on the same endpoint, told apart per request by `MCP-Protocol-Version`.
SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
LATEST_VERSION = SUPPORTED_VERSIONS[0]
MODERN_VERSION = "2026-07-28"
GATEWAY_VERSION = "0.1.0"

# 2026-07-28 `_meta` keys.
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
META_SUBSCRIPTION = "io.modelcontextprotocol/subscriptionId"
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"


def header_value(value: str) -> str:
    """A value as a 2026-07-28 header carries it (`Mcp-Name`, `Mcp-Param-*`): plain when it is visible
    ASCII without surrounding blanks, else the base64 sentinel form `=?base64?…?=`."""
    if value and value.isascii() and value.isprintable() and value == value.strip() \
            and not (value.startswith("=?base64?") and value.endswith("?=")):
        return value
    return "=?base64?" + base64.b64encode(value.encode()).decode() + "?="
