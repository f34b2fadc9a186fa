"""Assembled MCP servers: tools drawn from other servers, checked when written and reported when read."""
