"""A faithful MCP server for the tests: all that the official conformance suite's server scenarios call.

Built on the official `mcp` SDK's low-level `Server`, so every name, schema and content block on the
wire is spelled out here rather than derived from Python signatures, and served by uvicorn inside
the caller's event loop over Streamable HTTP (`/mcp`, resumable: each session's SSE events are kept
for replay after a `Last-Event-ID`) and the legacy HTTP+SSE transport (`/sse`, posting to `/messages/`).

Both protocol eras are served on `/mcp` at once, told apart per request by the SDK's session
manager: a POST whose `MCP-Protocol-Version` header names 2026-07-28 is a stateless exchange of its
own (the `_meta` envelope carries version, client info and capabilities; `Mcp-Method`/`Mcp-Name`
and `Mcp-Param-*` headers are checked against the body; no session; `server/discover`;
`subscriptions/listen`), anything else the 2025 handshake era (initialize, `Mcp-Session-Id`).
The handlers are the same: where one needs the client (elicitation, sampling, roots) it asks a
2026-07-28 request with an `input_required` result (MRTR, its `requestState` sealed by the SDK's
`RequestStateBoundary`) and a handshake-era one with a server-to-client request (see `interaction`).

What it serves is what the server scenarios of `@modelcontextprotocol/conformance` check, for the
2025-11-25 and 2026-07-28 requirement sets, with the names, arguments and content their sources prescribe:

  tools      test_simple_text, test_image_content, test_audio_content, test_embedded_resource,
             test_multiple_content_types, test_error_handling, test_tool_with_logging (and its
             2026 name test_logging_tool), test_tool_with_progress, test_sampling, test_elicitation,
             test_elicitation_sep1034_defaults, test_elicitation_sep1330_enums, json_schema_2020_12_tool,
             test_reconnection; test_large_messages (megabytes each way, not a scenario);
             MRTR (SEP-2322): test_input_required_result_{elicitation,sampling,list_roots,request_state,
             multiple_inputs,multi_round,tampered_state,capabilities};
             stateless diagnostics (SEP-2575): test_missing_capability, test_streaming_elicitation,
             test_trigger_tool_change, test_trigger_prompt_change; test_header_parameter (x-mcp-header);
             Tasks extension (SEP-2663): greet, slow_compute, failing_job, protocol_error_job,
             confirm_delete, multi_input, test_tool_with_task
  resources  test://static-text, test://static-binary, test://watched-resource,
             the template test://template/{id}/data
  prompts    test_simple_prompt, test_prompt_with_arguments, test_prompt_with_embedded_resource,
             test_prompt_with_image, test_input_required_result_prompt (MRTR)
  and        completion/complete, ping; handshake era: logging/setLevel (filters the connection's log
             notifications), resources/subscribe and /unsubscribe; 2026-07-28: server/discover,
             subscriptions/listen (list_changed events), tasks/get, tasks/update, tasks/cancel

In a test:    async with running_fixture() as fixture: ... fixture.url (fixture.sse_url)
As a script:  python -m tests.upstream.fixture_server [--port N]
              prints `mcp-fixture ready on http://127.0.0.1:N/mcp` once it accepts connections.

This module builds the server and its transports and runs them; what it serves lives beside it:
`tools` (the tools), `catalog` (resources, the template, prompts, completion), `interaction`
(asking the client, in either era), `tasks` (the Tasks extension), `state` (each connection's
logging level and subscriptions, logging to the client), `shared` (the subscription bus and the
tasks, shared by all connections) and `media` (the PNG and WAV).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import socket
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import mcp.types as types
import uvicorn
from mcp.server import Server
from mcp.server.auth.middleware.bearer_auth import AuthorizationContext
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http import (
    EventCallback,
    EventId,
    EventMessage,
    EventStore,
    StreamableHTTPServerTransport,
    StreamId,
)
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.subscriptions import ListenHandler
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from tests.upstream import catalog, state, tasks, tools
from tests.upstream.shared import Shared, task_store
from tests.upstream.state import NAME as NAME  # defined with the logging that names it; public here

HOST = "127.0.0.1"
MCP_PATH = "/mcp"
SSE_PATH = "/sse"
MESSAGES_PATH = "/messages/"
READY_LINE = NAME + " ready on {url}"

# Suggested to clients in each SSE stream's priming event: how soon to reconnect to a closed stream.
RETRY_INTERVAL_MS = 200
EVENTS_KEPT_PER_SESSION = 1000
# At exit, how long requests and streams still open (a client that never hung up) may take to end
# before they are cut: nobody is waiting for them any more.
STREAMS_GRACE = 1


# ---- the server and its transports


def build_server() -> Server[Any]:
    shared = Shared()
    server: Server[Any] = Server(
        NAME, version="1.0.0", instructions="A test fixture implementing the MCP conformance server scenarios.",
        lifespan=shared.lifespan,
        # Mcp-Param-* headers (2026-07-28) are checked against the called tool's schema, found here
        # rather than by running tools/list for every call.
        get_tool_input_schema=tools.input_schema,
        on_list_tools=tools.list_tools,
        on_list_resources=catalog.list_resources, on_list_resource_templates=catalog.list_templates,
        on_read_resource=catalog.read_resource, on_subscribe_resource=catalog.subscribe,
        on_unsubscribe_resource=catalog.unsubscribe,
        on_list_prompts=catalog.list_prompts, on_get_prompt=catalog.get_prompt, on_completion=catalog.complete,
        # 2026-07-28: change notifications reach clients only on the streams they open with
        # subscriptions/listen; serving it advertises listChanged (and resources.subscribe) there.
        on_subscriptions_listen=ListenHandler(shared.bus))
    # Registered here rather than as `on_set_logging_level=`, which warns that 2026-07-28 drops
    # logging/setLevel: this fixture serves the 2025 era too, where it is part of the protocol (the
    # SDK answers it with -32601 on 2026-07-28 requests, as that era's spec requires).
    server.add_request_handler("logging/setLevel", types.SetLevelRequestParams, state.set_level)
    # Seals each multi-round-trip requestState the handlers mint (AES-GCM, bound to the request's
    # method, target and arguments, expiring) and refuses a tampered echo with -32602 before any
    # handler sees it. The key lives as long as this process: state from another fixture is refused.
    server.middleware.append(RequestStateBoundary(RequestStateSecurity.ephemeral(), default_audience=NAME))
    # Registered here rather than as `on_call_tool=`, whose type leaves out the Tasks extension's
    # CreateTaskResult (an extension result: a dict, which the SDK passes through as such).
    server.add_request_handler("tools/call", types.CallToolRequestParams, tools.call_tool)
    # The Tasks extension (SEP-2663): tasks/get, tasks/update, tasks/cancel, advertised in capabilities.extensions.
    tasks.register(server, task_store)
    return server


class MemoryEventStore(EventStore):
    """One session's SSE events, the newest `limit`, for replay after a client's `Last-Event-ID`."""

    def __init__(self, limit: int = EVENTS_KEPT_PER_SESSION) -> None:
        self._events: OrderedDict[EventId, tuple[StreamId, types.JSONRPCMessage | None]] = OrderedDict()
        self._ids = itertools.count(1)
        self._limit = limit

    async def store_event(self, stream_id: StreamId, message: types.JSONRPCMessage | None) -> EventId:
        event_id = str(next(self._ids))
        self._events[event_id] = (stream_id, message)
        while len(self._events) > self._limit:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        found = self._events.get(last_event_id)
        if found is None:
            return None
        stream = found[0]
        # A snapshot: sending yields to the session, which may store more events meanwhile.
        events = list(self._events.items())
        start = next(i for i, (event_id, _) in enumerate(events) if event_id == last_event_id) + 1
        for event_id, (event_stream, message) in events[start:]:
            if event_stream == stream and message is not None:  # priming events carry no message
                await send_callback(EventMessage(message, event_id))
        return stream


class _SessionManager(StreamableHTTPSessionManager):
    """The SDK's session manager, giving each session an event store of its own.

    Events are stored by stream, and a POST's stream is named by its JSON-RPC request id, which
    every session numbers alike: one store shared by all sessions would replay one client's events
    to another. SDK 2.3.0 has no public hook for a per-session store, hence this override.
    """

    def _admit_session(self, requestor: AuthorizationContext | None) -> StreamableHTTPServerTransport | None:
        transport = super()._admit_session(requestor)
        if transport is not None:
            transport._event_store = MemoryEventStore()
        return transport


class _LegacySseEndpoint:
    """GET /sse: one server connection for the life of each event stream (the 2024-11-05 transport)."""

    def __init__(self, server: Server[Any], transport: SseServerTransport) -> None:
        self._server = server
        self._transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self._transport.connect_sse(scope, receive, send) as (read, write):
            await self._server.run(read, write, self._server.create_initialization_options())


def build_app(server: Server[Any] | None = None) -> Starlette:
    """The fixture as an ASGI app: Streamable HTTP at MCP_PATH, legacy HTTP+SSE at SSE_PATH."""
    server = server or build_server()
    # A local server guards against DNS rebinding: only loopback Host and Origin headers are served.
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"])
    # The event store given here turns resumability on; each session then gets its own (see _SessionManager).
    manager = _SessionManager(app=server, event_store=MemoryEventStore(), retry_interval=RETRY_INTERVAL_MS,
                              security_settings=security)
    sse = SseServerTransport(MESSAGES_PATH, security_settings=security)
    return Starlette(
        routes=[
            Route(MCP_PATH, endpoint=StreamableHTTPASGIApp(manager)),
            Route(SSE_PATH, endpoint=_LegacySseEndpoint(server, sse), methods=["GET"]),
            Mount(MESSAGES_PATH, app=sse.handle_post_message),
        ],
        lifespan=lambda app: manager.run())


# ---- running it


@dataclass(frozen=True)
class RunningFixture:
    url: str  # the Streamable HTTP endpoint
    sse_url: str  # the legacy HTTP+SSE endpoint (GET)


class _Uvicorn(uvicorn.Server):
    """uvicorn that says when it is accepting connections, and leaves signal handling to its host."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.up = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.up.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(server: _Uvicorn, sock: socket.socket) -> None:
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exc:  # uvicorn exits the process when startup fails; here it is an error
        raise RuntimeError(f"{NAME} failed to start (uvicorn exit status {exc.code})") from None


@contextlib.asynccontextmanager
async def running_fixture(port: int = 0, *, start_timeout: float = 10.0, stop_timeout: float = 10.0,
                          ) -> AsyncIterator[RunningFixture]:
    """Serve the fixture on 127.0.0.1 (port 0: a free one) in this event loop, until the block exits."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    bound = sock.getsockname()[1]
    config = uvicorn.Config(build_app(), log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=STREAMS_GRACE)
    server = _Uvicorn(config)
    serving = asyncio.create_task(_serve(server, sock))
    up = asyncio.create_task(server.up.wait())
    try:
        done, _ = await asyncio.wait({up, serving}, timeout=start_timeout, return_when=asyncio.FIRST_COMPLETED)
        if serving in done:
            serving.result()
            raise RuntimeError(f"{NAME} stopped while starting")
        if up not in done:
            raise TimeoutError(f"{NAME} did not start in {start_timeout:g}s")
        origin = f"http://{HOST}:{bound}"
        yield RunningFixture(url=origin + MCP_PATH, sse_url=origin + SSE_PATH)
    finally:
        up.cancel()
        server.should_exit = True
        try:
            await asyncio.wait_for(serving, stop_timeout)
        finally:
            sock.close()  # uvicorn closes it once it has served; not if it never started


async def _serve_until_stopped(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_fixture(port) as fixture:
        print(READY_LINE.format(url=fixture.url), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The MCP conformance fixture server of mcpgw's tests")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args(argv)
    asyncio.run(_serve_until_stopped(args.port))


if __name__ == "__main__":
    main()
