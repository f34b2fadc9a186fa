"""One tool call, from the client's arguments to the CallToolResult."""

from __future__ import annotations

import msgspec

from mcpgw.runtime import tracing
from mcpgw_toolexec import arguments, request, response
from mcpgw_toolexec.backend import BackendClient
from mcpgw_toolexec.compiled import BrokenTool, CompiledServer, CompiledTool
from mcpgw_toolexec.failures import ToolFailure


async def execute(server: CompiledServer, tool: CompiledTool | BrokenTool, raw_arguments: msgspec.Raw,
                  backend: BackendClient, excerpt_bytes: int) -> response.CallToolResult:
    """Raises `McpgwError` only for protocol errors (arguments not an object); all else is a result."""
    given = arguments.decode_arguments(raw_arguments)
    if isinstance(tool, BrokenTool):
        return response.failure(f"tool {tool.name} is misconfigured: {tool.problem}")
    try:
        args = arguments.prepare(tool.decls, given)
        if tool.url is None:
            return response.direct(tool, args, server.config)
        outgoing = request.build(tool, args, server.config)
        if not tracing.enabled():
            # Not tracing here, but a traced caller's context still goes on to the backend.
            inherited = tracing.inject_headers()
            if inherited:
                outgoing.headers.update(inherited)
        answer = await backend.send(outgoing)
        return response.from_backend(tool, answer, args, server.config, excerpt_bytes)
    except ToolFailure as exc:
        return response.failure(exc.message)
