"""A tool call, edge -> toolexec, and its answer."""

from __future__ import annotations

import msgspec


class ToolCallRequest(msgspec.Struct, kw_only=True, omit_defaults=True, tag="toolexec.call.v1", tag_field="kind"):
    server_id: str
    # The revision the edge resolved the tool at; toolexec refreshes its cache if it holds an older one.
    revision: int
    tool: str
    # The client's JSON arguments object, passed through undecoded.
    arguments: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))
    session_id: str = ""
    consumer_id: str = ""


class ToolCallReply(msgspec.Struct, kw_only=True, tag="toolexec.call.reply.v1", tag_field="kind"):
    # A complete MCP CallToolResult JSON object; failures of the backend are `isError: true` in here.
    result: msgspec.Raw
