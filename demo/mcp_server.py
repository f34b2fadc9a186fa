"""The demo's own MCP server, for mcpgw to host: built on the official `mcp` SDK, served over Streamable HTTP.

    python demo/mcp_server.py [--port N] [--host 127.0.0.1]

Prints `demo-mcp ready on http://HOST:N/mcp` once it accepts connections (port 0, the default: a
free one). Its tools show what a hosted server relays that a REST backend cannot:

  countdown   counts down `steps` steps, reporting each one as notifications/progress when the call
              carries a progressToken
  book_table  books a table after asking the user, by elicitation (form mode), for the name to book
              under and a confirmation; says so plainly when the user declines or cancels, or when
              the client cannot be asked (no elicitation capability). In the handshake era
              (2025-11-25 and older) it sends elicitation/create mid-call; in 2026-07-28 (stateless,
              no back-channel) it answers `input_required` with the question, and books when the
              client retries the call with the answer in `inputResponses`
  shout       answers its text in capitals at once (the benchmark's trivial tool)

Their names do not clash with the REST demo's (`demo/tools.yaml`), so both can be assembled into one
server (`demo-all` in `make up`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import mcp.types as types
import uvicorn
from mcp import MCPError
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.types.jsonrpc import INVALID_PARAMS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.applications import Starlette
from starlette.routing import Route

NAME = "demo-mcp"
MCP_PATH = "/mcp"
READY_LINE = NAME + " ready on {url}"
# How long book_table waits for the user's answer before it gives up.
ELICITATION_TIMEOUT = 120.0
# How long requests still open at exit (a stream a client never closed) may take before they are cut.
SHUTDOWN_GRACE = 1

# The key of book_table's question in its input_required result, and of the answer in the retry (2026-07-28).
BOOKING_QUESTION = "booking"

Ctx = ServerRequestContext[Any, Any]
ToolResult = types.CallToolResult | types.InputRequiredResult
# A tool: the request's context, its arguments, and (2026-07-28 retries) the client's answers to its questions.
ToolFn = Callable[[Ctx, dict[str, Any], types.InputResponses], Awaitable[ToolResult]]


def _text(text: str, *, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=is_error)


class BadArguments(Exception):
    """A tool's arguments are unusable: a tool error the model can read and correct."""


def _int(args: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = args.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadArguments(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def _number(args: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = args.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise BadArguments(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _string(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadArguments(f"{name} must be a non-empty string, got {value!r}")
    return value.strip()


async def countdown(ctx: Ctx, args: dict[str, Any], answers: types.InputResponses) -> ToolResult:
    steps = _int(args, "steps", 5, 1, 50)
    interval = _number(args, "interval", 0.2, 0.0, 2.0)
    for done in range(1, steps + 1):
        await anyio.sleep(interval)
        left = steps - done
        # A no-op unless the call's _meta carries a progressToken.
        await ctx.session.report_progress(done, steps, f"{left} to go" if left else "liftoff")
    return _text(f"Counted down {steps} steps: liftoff!")


BOOKING_FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Name", "description": "The name to book the table under"},
        "confirm": {"type": "boolean", "title": "Confirm", "description": "Book it?", "default": True},
    },
    "required": ["name"],
}


async def book_table(ctx: Ctx, args: dict[str, Any], answers: types.InputResponses) -> ToolResult:
    restaurant = _string(args, "restaurant")
    party = _int(args, "party_size", 2, 1, 20)
    wanted = types.ClientCapabilities(elicitation=types.ElicitationCapability())
    if not ctx.session.check_client_capability(wanted):
        return _text("Not booked: this tool asks the user for a name and a confirmation (elicitation), "
                     "and this client does not support elicitation.", is_error=True)
    message = f"Book a table for {party} at {restaurant}? Whose name should it be under?"
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        # No server-to-client requests: ask in the result; the client retries the call with the answer.
        given = answers.get(BOOKING_QUESTION)
        if given is None:
            question = types.ElicitRequest(params=types.ElicitRequestFormParams(message=message,
                                                                                requested_schema=BOOKING_FORM))
            return types.InputRequiredResult(input_requests={BOOKING_QUESTION: question})
        if not isinstance(given, types.ElicitResult):
            return _text("Not booked: the answer to the booking question is not an elicitation result.",
                         is_error=True)
        answer = given
    else:
        try:
            with anyio.fail_after(ELICITATION_TIMEOUT):
                answer = await ctx.session.elicit_form(message, BOOKING_FORM, related_request_id=ctx.request_id)
        except TimeoutError:
            return _text(f"Not booked: no answer from the user within {ELICITATION_TIMEOUT:g}s.", is_error=True)
        except MCPError as exc:
            return _text(f"Not booked: asking the user failed ({exc}).", is_error=True)
    return _booked(answer, party, restaurant)


def _booked(answer: types.ElicitResult, party: int, restaurant: str) -> types.CallToolResult:
    """book_table's result for the user's answer."""
    if answer.action == "decline":
        return _text("Not booked: the user declined.")
    if answer.action == "cancel":
        return _text("Not booked: the user cancelled.")
    content = answer.content or {}
    name = content.get("name")
    if not isinstance(name, str) or not name.strip():
        return _text("Not booked: the user gave no name.", is_error=True)
    if content.get("confirm") is False:
        return _text(f"Not booked: {name.strip()} did not confirm.")
    return _text(f"Booked a table for {party} at {restaurant} under the name {name.strip()}.")


async def shout(ctx: Ctx, args: dict[str, Any], answers: types.InputResponses) -> ToolResult:
    text = args.get("text")
    if not isinstance(text, str):
        raise BadArguments(f"text must be a string, got {text!r}")
    return _text(text.upper())


TOOLS: dict[str, tuple[types.Tool, ToolFn]] = {
    "countdown": (types.Tool(
        name="countdown",
        description="Counts down, reporting progress at every step (pass a progressToken to see it)",
        input_schema={"type": "object", "properties": {
            "steps": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5, "description": "How many steps"},
            "interval": {"type": "number", "minimum": 0, "maximum": 2, "default": 0.2,
                         "description": "Seconds between steps"}}}), countdown),
    "book_table": (types.Tool(
        name="book_table",
        description="Books a restaurant table; asks the user (elicitation) whose name to book it under",
        input_schema={"type": "object", "properties": {
            "restaurant": {"type": "string", "description": "Where"},
            "party_size": {"type": "integer", "minimum": 1, "maximum": 20, "default": 2,
                           "description": "How many people"}},
            "required": ["restaurant"]}), book_table),
    "shout": (types.Tool(
        name="shout",
        description="Answers the text in capitals",
        input_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}), shout),
}


async def list_tools(ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[definition for definition, _ in TOOLS.values()])


async def call_tool(ctx: Ctx, params: types.CallToolRequestParams) -> ToolResult:
    found = TOOLS.get(params.name)
    if found is None:  # a protocol error, unlike a tool that ran and failed
        raise MCPError(INVALID_PARAMS, f"Unknown tool: {params.name}")
    try:
        return await found[1](ctx, params.arguments or {}, params.input_responses or {})
    except BadArguments as exc:
        return _text(f"Invalid arguments: {exc}", is_error=True)


def build_app() -> Starlette:
    server: Server[Any] = Server(NAME, version="1.0.0", instructions="The mcpgw demo's MCP server, hosted by mcpgw.",
                                 on_list_tools=list_tools, on_call_tool=call_tool)
    manager = StreamableHTTPSessionManager(app=server)
    return Starlette(routes=[Route(MCP_PATH, endpoint=StreamableHTTPASGIApp(manager))],
                     lifespan=lambda app: manager.run())


class _Uvicorn(uvicorn.Server):
    """uvicorn that prints the ready line once it accepts connections, and exits with status 0 when
    stopped by SIGTERM or SIGINT (uvicorn's own handling re-raises the signal once it has stopped)."""

    def __init__(self, config: uvicorn.Config, ready_line: str) -> None:
        super().__init__(config)
        self.ready_line = ready_line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(self.ready_line, flush=True)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        yield


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The mcpgw demo's MCP server (Streamable HTTP at /mcp)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args(argv)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{sock.getsockname()[1]}{MCP_PATH}"
    config = uvicorn.Config(build_app(), log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=SHUTDOWN_GRACE)
    _Uvicorn(config, READY_LINE.format(url=url)).run(sockets=[sock])  # uvloop when installed


if __name__ == "__main__":
    main()
