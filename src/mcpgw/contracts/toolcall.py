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
    # Headers derived from the consumer's verified identity (JWT claims), added to the backend request.
    forward_headers: dict[str, str] = {}
    # The client's own credential: sent only when the server's YAML asks for passthrough
    # (`passthroughAuthHeader`, `security.passthrough`); never otherwise.
    client_credential: str = ""
    # Which backend the edge chose from the HTTP request (`grayMcpServerConfigs`, first match wins):
    # 0 the main `backendConfig`, i the gray config i-1.
    backend: int = 0


class ToolCallReply(msgspec.Struct, kw_only=True, omit_defaults=True, tag="toolexec.call.reply.v1",
                    tag_field="kind"):
    # A complete MCP CallToolResult JSON object; failures of the backend are `isError: true` in here.
    result: msgspec.Raw
    # The result's `isError`, said apart so the edge counts the outcome without parsing the result.
    is_error: bool = False
