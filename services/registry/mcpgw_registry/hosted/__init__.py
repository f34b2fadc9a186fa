"""Hosted MCP servers: their backend (services), their upstream credentials, and the lookup hosting asks."""
