"""The one exception that becomes an `isError: true` tool result instead of a protocol error."""

from __future__ import annotations


class ToolFailure(Exception):
    """A failure the model calling the tool should see and may correct (MCP tool execution error).

    `message` goes to the client verbatim, so it must never carry a credential, a full URL with
    its query (API keys travel there) or a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(ToolFailure):
    """No connection could be opened (refused, unresolvable, connect timeout): nothing was sent, so
    the call may go to another address whatever its method (`mcpgw.balancing`)."""
