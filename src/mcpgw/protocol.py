"""MCP protocol revisions mcpgw speaks, one list for the edge (to clients) and hosting (to upstreams)."""

from __future__ import annotations

# Newest first. 2026-07-28 (stateless, `server/discover`) is not served yet: clients fall back.
SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
LATEST_VERSION = SUPPORTED_VERSIONS[0]
MODERN_VERSION = "2026-07-28"
GATEWAY_VERSION = "0.1.0"
