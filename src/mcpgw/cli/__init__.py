"""`mcpgw`: the admin API from a shell.

    mcpgw [--admin-url URL] [--json] [-v] <group> <command> ...
    groups: servers (create get list update delete host assemble),
            tools (get put import example edit imported detach), consumers (create list get update delete),
            grants (add list update revoke), services (create list get update delete), credentials (set get delete),
            domains (create list get update delete)

One module per resource (`servers`, `hosting`, `tools`, `tool_edits`, `consumers`, `grants`,
`services`, `credentials`, `domains`), each adding its commands to the parser (`app.REGISTER`). Exit codes:
`errors`.
"""

from __future__ import annotations

from mcpgw.cli.app import main

__all__ = ["main"]
