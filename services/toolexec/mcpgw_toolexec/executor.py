"""One tool call, from the client's arguments to the CallToolResult."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

import msgspec
from multidict import CIMultiDict

from mcpgw.runtime import tracing
from mcpgw_toolexec import arguments, request, response, security
from mcpgw_toolexec.backend import BackendClient
from mcpgw_toolexec.compiled import BrokenTool, CompiledServer, CompiledTool
from mcpgw_toolexec.failures import ToolFailure
from mcpgw_toolexec.headers import RESERVED, is_header_safe, is_token

log = logging.getLogger(__name__)

_NEVER_FORWARDED = RESERVED | {"host"}
_NO_HEADERS: Mapping[str, str] = {}


async def execute(server: CompiledServer, tool: CompiledTool | BrokenTool, raw_arguments: msgspec.Raw,
                  backend: BackendClient, excerpt_bytes: int, *, forward_headers: Mapping[str, str] = _NO_HEADERS,
                  client_credential: str = "") -> response.CallToolResult:
    """Raises `McpgwError` only for protocol errors (arguments not an object); all else is a result.

    `forward_headers` come from the consumer's verified identity (JWT claims); `client_credential`
    is the client's Authorization value, used only by tools configured for passthrough.
    """
    given = arguments.decode_arguments(raw_arguments)
    if isinstance(tool, BrokenTool):
        return response.failure(f"tool {tool.name} is misconfigured: {tool.problem}")
    try:
        args = arguments.prepare(tool.decls, given)
        if tool.url is None:
            return response.direct(tool, args, server.config)
        tool, raw_authorization = _settle_credentials(tool, client_credential)
        outgoing = request.build(tool, args, server.config)
        if raw_authorization and "Authorization" not in outgoing.headers:
            outgoing.headers["Authorization"] = raw_authorization
        if forward_headers:
            _add_identity_headers(outgoing.headers, forward_headers, tool.auth)
        if not tracing.enabled():
            # Not tracing here, but a traced caller's context still goes on to the backend.
            inherited = tracing.inject_headers()
            if inherited:
                outgoing.headers.update(inherited)
        answer = await backend.send(outgoing)
        return response.from_backend(tool, answer, args, server.config, excerpt_bytes)
    except ToolFailure as exc:
        return response.failure(exc.message)


def _settle_credentials(tool: CompiledTool, client_credential: str) -> tuple[CompiledTool, str]:
    """The tool with its passthrough credentials decided for this call, and the client's raw
    Authorization value when `passthroughAuthHeader` applies (else "")."""
    auth, extra = tool.auth, tool.extra_auth
    if not ((auth is not None and auth.per_call) or any(a.per_call for a in extra)):
        return tool, ""  # the usual case: credentials fixed when the tool was compiled
    raw = ""
    settled: list[security.UpstreamAuth | None] = []
    for one in (auth, *extra):
        if one is not None and one.per_call:
            decided, presented = security.for_call(one, client_credential)
            raw = raw or presented
            settled.append(decided)
        else:
            settled.append(one)
    first, *rest = settled
    return dataclasses.replace(tool, auth=first, extra_auth=tuple(a for a in rest if a is not None)), raw


def _add_identity_headers(headers: CIMultiDict[str], forward: Mapping[str, str],
                          auth: security.UpstreamAuth | None) -> None:
    """Claim headers replace what the template or an argument set: an argument is the client's to
    choose, the claim is the issuer's, so a client cannot pose as another user through a header
    argument. They never replace the backend credential, framing headers or Host."""
    protected = auth.name.lower() if auth is not None and auth.where == "header" else ""
    for name, value in forward.items():
        lowered = name.lower()
        if not is_token(name) or lowered in _NEVER_FORWARDED or lowered == protected:
            log.warning("claim header %r cannot be sent to a backend; dropped", name)
            continue
        if not is_header_safe(value):
            log.warning("claim header %r has a control character in its value; dropped", name)
            continue
        headers[name] = value
