"""Services (`/v1/services`): the addresses upstream MCP servers are reached at (reference §9)."""
