"""What kind of MCP server a record is (REST-converted, hosted, assembly) and what ties servers
to the other resources they draw on (services, source servers, upstream credentials)."""
