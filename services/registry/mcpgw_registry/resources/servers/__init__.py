"""MCP servers: bodies, record and checks (`model`), what kind a server is (`kinds`, `kind_fields`),
the API view, and the compiled snapshots the data plane is given."""
