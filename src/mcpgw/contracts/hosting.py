"""Hosted and assembled MCP servers: what the registry tells the data plane, and edge <-> hosting.

A hosted server is an existing MCP server behind the gateway: the `hosting` worker holds the MCP
client side (one upstream session per client session) and the edge relays its clients' messages
to it. An assembled server draws tools from other servers (REST-converted or hosted).
"""

from __future__ import annotations

import json
from typing import Literal

import msgspec

UpstreamTransport = Literal["StreamableHTTP", "SSE"]


class UpstreamTarget(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One address (`host:port`) of a service a backend (REST or upstream MCP server) is reached at."""

    address: str
    # The service's weight (`backendConfig.services[].weight`): a service's share, not an address's.
    weight: int = 100
    # The service it belongs to (its id): `mcpgw.balancing` picks a service by weight, then an address.
    service: str = ""
    scheme: Literal["http", "https"] = "http"
    # PEM text of CA certificates trusted for this service, in addition to the system's (https).
    ca_bundle: str = ""


class HostedBackend(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where a hosted server's upstream lives: its transport, its path and its addresses."""

    transport: UpstreamTransport
    # The upstream's own path (`exposedUriPath`), e.g. `/mcp` or `/sse`.
    path: str
    targets: list[UpstreamTarget] = []
    # The addresses of each `grayMcpServerConfigs[i].backendConfig` (canary i+1; see `UpstreamCall.backend`).
    gray_targets: list[list[UpstreamTarget]] = []


class UpstreamCredential(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A credential the gateway presents to an upstream MCP server. Travels registry -> hosting only."""

    type: Literal["Bearer", "ApiKey", "Basic"]
    # Bearer: the token. ApiKey: the key, sent in header or query parameter `name`.
    value: str = ""
    name: str = ""
    location: Literal["header", "query"] = "header"
    # Basic.
    username: str = ""
    password: str = ""


class AssemblySource(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One server an assembly draws tools from."""

    server_id: str
    name: str = ""
    # The source's tool names to take; empty: all of them.
    tools: list[str] = []
    # Source tool name -> the name the assembly exposes it as.
    aliases: dict[str, str] = {}


class UpstreamLookup(msgspec.Struct, kw_only=True, omit_defaults=True, tag="registry.upstream.lookup.v1",
                     tag_field="kind"):
    """hosting -> registry: a hosted server's upstream, with the credential to use for `consumer_id`."""

    server_id: str
    consumer_id: str = ""


class UpstreamConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    server_id: str
    name: str
    revision: int
    backend: HostedBackend
    # The consumer's own upstream credential when one is set for it, else the server's, else none.
    credential: UpstreamCredential | None = None
    # True when `credential` is the consumer's own: its upstream sessions are its alone.
    per_consumer: bool = False
    statistics: bool = False


class UpstreamLookupReply(msgspec.Struct, kw_only=True, omit_defaults=True,
                          tag="registry.upstream.lookup.reply.v1", tag_field="kind"):
    upstream: UpstreamConfig | None = None


class UpstreamCall(msgspec.Struct, kw_only=True, omit_defaults=True, tag="hosting.call.v1", tag_field="kind"):
    """edge -> hosting: one JSON-RPC message of a client session for a hosted server.

    `message` is a request (answered by `UpstreamReply`, preceded by any number of `UpstreamEvent`s
    on the same reply subject: progress, logging, server-to-client requests), a notification, or
    the client's response to a server-to-client request (both answered by an empty reply).
    """

    server_id: str
    session_id: str
    message: msgspec.Raw
    consumer_id: str = ""
    # What the client said at initialize; the upstream session is opened with the same.
    client_capabilities: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))
    client_info: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))
    # Headers derived from the consumer's verified identity (JWT claims), added to upstream requests.
    forward_headers: dict[str, str] = {}
    # Set for a 2026-07-28 request: its protocol headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name,
    # Mcp-Param-*), sent upstream with it as it is, outside any session (`session_id` is empty).
    modern_headers: dict[str, str] = {}
    # Set for a 2026-07-28 request: names it for `UpstreamCancel` (its client went away).
    call_id: str = ""
    # Which backend the edge chose from the request (`grayMcpServerConfigs`): 0 the main one, i the
    # gray config i-1. An upstream session opened by this message stays on it.
    backend: int = 0


class UpstreamReply(msgspec.Struct, kw_only=True, omit_defaults=True, tag="hosting.call.reply.v1",
                    tag_field="kind"):
    # The JSON-RPC response to a request, with the client's id; `null` for anything else.
    # (msgspec.Raw cannot share a union with None.)
    message: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))
    # The HTTP status the upstream answered a 2026-07-28 request with (its errors carry one).
    status: int = 200

    @property
    def response(self) -> bytes | None:
        raw = bytes(self.message)
        return None if raw == b"null" else raw


class UpstreamEvent(msgspec.Struct, kw_only=True, omit_defaults=True, tag="hosting.event.v1", tag_field="kind"):
    """hosting -> edge, before the reply: a JSON-RPC message for the client on that request's stream,
    or (`retry_ms` set, no message) word that the upstream closed that stream to be polled later
    (2025-11-25 SSE polling): the edge may let its client do the same."""

    message: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))
    retry_ms: int | None = None
    # Set on an event that only says a long call (a bridged subscription) is alive.
    keepalive: bool = False


class UpstreamDescribe(msgspec.Struct, kw_only=True, omit_defaults=True, tag="hosting.describe.v1",
                       tag_field="kind"):
    """edge -> hosting: what the upstream says about itself at initialize (cached by hosting)."""

    server_id: str
    consumer_id: str = ""


class UpstreamDescription(msgspec.Struct, kw_only=True, omit_defaults=True, tag="hosting.describe.reply.v1",
                          tag_field="kind"):
    protocol_version: str
    capabilities: msgspec.Raw
    server_info: msgspec.Raw
    instructions: str = ""


class UpstreamTools(msgspec.Struct, kw_only=True, omit_defaults=True, tag="hosting.tools.v1", tag_field="kind"):
    """registry -> hosting: the names of a hosted server's tools (checking and reporting assemblies)."""

    server_id: str


class UpstreamToolsReply(msgspec.Struct, kw_only=True, omit_defaults=True, tag="hosting.tools.reply.v1",
                         tag_field="kind"):
    names: list[str] = []


class UpstreamCancel(msgspec.Struct, kw_only=True, tag="hosting.cancel.v1", tag_field="kind"):
    """edge -> every hosting worker (published): the client of 2026-07-28 call `call_id` closed its
    stream, which that revision makes its cancellation; the worker running it stops it."""

    call_id: str


class UpstreamSessionEnd(msgspec.Struct, kw_only=True, tag="hosting.session.end.v1", tag_field="kind"):
    """edge -> hosting (published): a client session ended; end its upstream sessions."""

    session_id: str


# Server-to-client requests carry an id of the gateway's making on their way to the client, so that
# the client's answer finds the upstream session that asked, whichever edge and worker it reaches.
RELAY_PREFIX = "mcpgw~"
_SCALAR_STARTS = frozenset('"-0123456789')


def relay_id(server_id: str, upstream_id: int | str) -> str:
    """The id a client sees for request `upstream_id` of hosted server `server_id`."""
    return f"{RELAY_PREFIX}{server_id}~{json.dumps(upstream_id)}"


def parse_relay_id(value: object) -> tuple[str, int | str] | None:
    """(server id, upstream id) of a relayed request's id; None for any other id."""
    if not isinstance(value, str) or not value.startswith(RELAY_PREFIX):
        return None
    server_id, sep, raw = value[len(RELAY_PREFIX):].partition("~")
    if not sep or not server_id or raw[:1] not in _SCALAR_STARTS:
        # Only a number or a string is an id: a client's `[[[...` never reaches json.loads, which
        # recurses per level.
        return None
    try:
        upstream_id = json.loads(raw)
    except ValueError:
        return None
    if isinstance(upstream_id, bool) or not isinstance(upstream_id, int | str):
        return None
    return server_id, upstream_id
