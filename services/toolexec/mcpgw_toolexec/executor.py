"""One tool call, from the client's arguments to the CallToolResult."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

import msgspec
from multidict import CIMultiDict

from mcpgw.balancing import Balancer, target_key
from mcpgw.contracts import UpstreamTarget
from mcpgw.runtime import tracing
from mcpgw_toolexec import arguments, request, response, security
from mcpgw_toolexec.backend import BackendClient, BackendResponse
from mcpgw_toolexec.compiled import BrokenTool, CompiledServer, CompiledTool
from mcpgw_toolexec.failures import ToolFailure, Unreachable
from mcpgw_toolexec.headers import RESERVED, is_header_safe, is_token

log = logging.getLogger(__name__)

_NEVER_FORWARDED = RESERVED | {"host"}
_NO_HEADERS: Mapping[str, str] = {}


async def execute(server: CompiledServer, tool: CompiledTool | BrokenTool, raw_arguments: msgspec.Raw,
                  backend: BackendClient, excerpt_bytes: int, *, forward_headers: Mapping[str, str] = _NO_HEADERS,
                  client_credential: str = "", backend_index: int = 0) -> response.CallToolResult:
    """Raises `McpgwError` only for protocol errors (arguments not an object); all else is a result.

    `forward_headers` come from the consumer's verified identity (JWT claims); `client_credential`
    is the client's Authorization value, used only by tools configured for passthrough;
    `backend_index` the backend the edge chose (0 main, i gray config i-1) for relative URLs.
    """
    given = arguments.decode_arguments(raw_arguments)
    if isinstance(tool, BrokenTool):
        return response.failure(f"tool {tool.name} is misconfigured: {tool.problem}")
    try:
        args = arguments.prepare(tool.decls, given)
        if tool.url is None:
            return response.direct(tool, args, server.config)
        tool, raw_authorization = _settle_credentials(tool, client_credential)
        # A server without backendConfig pays this None check (and the two below on `picked`).
        picked = None if server.balancers is None else _pick(server.balancers, tool, backend_index, backend)
        outgoing = request.build(tool, args, server.config, None if picked is None else _origin(picked[1]))
        if raw_authorization and "Authorization" not in outgoing.headers:
            outgoing.headers["Authorization"] = raw_authorization
        if forward_headers:
            _add_identity_headers(outgoing.headers, forward_headers, tool.auth)
        if not tracing.enabled():
            # Not tracing here, but a traced caller's context still goes on to the backend.
            inherited = tracing.inject_headers()
            if inherited:
                outgoing.headers.update(inherited)
        if picked is None:
            answer = await backend.send(outgoing)
        else:
            answer = await _send_balanced(backend, *picked, outgoing)
        return response.from_backend(tool, answer, args, server.config, excerpt_bytes)
    except ToolFailure as exc:
        return response.failure(exc.message)


def _pick(balancers: list[Balancer], tool: CompiledTool, index: int,
          backend: BackendClient) -> tuple[Balancer, UpstreamTarget] | None:
    """The backend (main, or the gray config the edge chose) and its address, for a relative URL."""
    if tool.url is None or not tool.url.relative:
        return None  # an absolute URL calls where it says, backendConfig or not
    balancer = balancers[index] if 0 <= index < len(balancers) else balancers[0]
    if not balancer:
        raise ToolFailure("backend unreachable: the server's backendConfig has no address")
    return balancer, balancer.pick(backend.health)


def _origin(target: UpstreamTarget) -> str:
    return f"{target.scheme}://{target.address}"


async def _send_balanced(backend: BackendClient, balancer: Balancer, target: UpstreamTarget,
                         outgoing: request.BackendRequest) -> BackendResponse:
    """Send to `target`; an address that takes no connection counts against its health, and the
    call goes at once to another address of the same service (nothing was sent, so any method)."""
    health = backend.health
    tried: list[str] = []
    service: int | None = None
    while True:
        key = target_key(target)
        context = backend.context_for(target.ca_bundle) if target.ca_bundle else None
        try:
            answer = await backend.send(outgoing, context)
        except Unreachable:
            if health.failed(key):
                log.warning("backend address %s left out for %gs after %d connection failures in a row",
                            key, health.ejection, health.threshold)
            tried.append(key)
            if service is None:
                service = balancer.service_of(target)
            if len(tried) >= balancer.addresses(service):
                raise
            following = balancer.pick(health, tried, service)
            outgoing.url = _origin(following) + outgoing.url[len(_origin(target)):]
            target = following
            continue
        health.succeeded(key)
        return answer


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
