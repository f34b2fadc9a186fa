"""A server's tools document (Higress REST-to-MCP YAML): parsing and validation, the JSON Schemas it
carries, and its write-only secrets (backend credentials, secret `server.config` values)."""
