"""Hosted MCP servers: their backend (services resolved to upstream targets) and upstream credentials."""
