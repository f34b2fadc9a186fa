"""The fixture's per-connection state (the logging level, the resource subscriptions) and logging to the client.

Each handshake-era MCP session keeps its own state, reached from any handler's request context; log
notifications are filtered by the level the connection set with logging/setLevel. A 2026-07-28
request is a connection of its own: it starts afresh, and asks for log notifications in its `_meta`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args

import mcp.types as types
from mcp.server import ServerRequestContext
from mcp.server.connection import allowed_log_levels
from mcp.shared.message import ServerMessageMetadata

NAME = "mcp-fixture"  # the server's name, and the logger of its log notifications

Ctx = ServerRequestContext[Any, Any]

LEVELS: tuple[types.LoggingLevel, ...] = get_args(types.LoggingLevel)  # by ascending severity
_STATE_KEY = "tests.upstream.fixture"


@dataclass
class ConnectionState:
    log_level: types.LoggingLevel = "debug"  # until the client sets one, everything is sent
    subscriptions: set[str] = field(default_factory=set)


def connection_state(ctx: Ctx) -> ConnectionState:
    # The SDK keeps per-connection scratch state (`Connection.state`) but hands low-level handlers
    # only the per-request `ServerSession` proxy, whose `_connection` is the one way to it.
    scratch = ctx.session._connection.state
    found = scratch.get(_STATE_KEY)
    if not isinstance(found, ConnectionState):
        found = scratch[_STATE_KEY] = ConnectionState()
    return found


def on_this_stream(ctx: Ctx) -> ServerMessageMetadata:
    """Route a server-to-client message onto the calling request's own response stream."""
    return ServerMessageMetadata(related_request_id=ctx.request_id)


async def log(ctx: Ctx, level: types.LoggingLevel, message: str) -> None:
    if LEVELS.index(level) < LEVELS.index(connection_state(ctx).log_level):
        return
    # On 2026-07-28 connections a request opts in to log delivery itself; the SDK's gate knows that
    # era's rule (and lets everything through on handshake-era connections, filtered above).
    if level not in allowed_log_levels(ctx.protocol_version, ctx.meta):
        return
    notification = types.LoggingMessageNotification(
        params=types.LoggingMessageNotificationParams(level=level, logger=NAME, data=message))
    await ctx.session.send_notification(notification, related_request_id=ctx.request_id)


async def set_level(ctx: Ctx, params: types.SetLevelRequestParams) -> types.EmptyResult:
    connection_state(ctx).log_level = params.level
    return types.EmptyResult()
