"""What the edge counts and traces about the MCP requests it answers.

Metrics: one histogram by server, method, tool and outcome (`ok`, `tool_error`, or the JSON-RPC
error code). A label is only ever a server the registry knows, a method of the MCP specification
(`other` for the rest) and a tool of that server's listing: nothing a client makes up.

Spans follow the MCP semantic conventions: `<method> <tool>` of kind SERVER with
`mcp.method.name`, `gen_ai.tool.name`, `gen_ai.operation.name` (`execute_tool`),
`jsonrpc.request.id`, `mcp.session.id`, and `error.type` (`tool_error` or the error code). The
request's `_meta` trace context is its parent when present, else the HTTP request's span.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec
from opentelemetry import trace
from prometheus_client.core import Metric

from mcpgw import jsonrpc
from mcpgw.runtime import tracing
from mcpgw.runtime.metrics import Series, Timings

tracer = trace.get_tracer("mcpgw.edge")

# The methods of the MCP specification (2024-11-05 to 2026-07-28); any other is counted as `other`.
METHODS = frozenset({
    "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list",
    "resources/read", "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get",
    "completion/complete", "logging/setLevel", "server/discover", "subscriptions/listen", "tasks/get",
    "tasks/list", "tasks/result", "tasks/cancel",
})
OK = "ok"
TOOL_ERROR = "tool_error"
INTERNAL = str(jsonrpc.INTERNAL_ERROR)


class _Error(msgspec.Struct):
    code: int = 0


class _IsError(msgspec.Struct):
    isError: bool = False


class _Answer(msgspec.Struct):
    error: _Error | None = None
    result: msgspec.Raw | None = None


_answer = msgspec.json.Decoder(_Answer)
_is_error = msgspec.json.Decoder(_IsError)


def outcome_of(answer: bytes, method: str) -> str:
    """The outcome of a JSON-RPC response the edge did not make itself (a relayed upstream's)."""
    try:
        decoded = _answer.decode(answer)
        if decoded.error is not None:
            return str(decoded.error.code)
        if method == "tools/call" and decoded.result is not None and _is_error.decode(decoded.result).isError:
            return TOOL_ERROR
    except msgspec.DecodeError:
        return OK  # a stream or a body the edge passes on as it is: nothing to say against it
    return OK


class ToolSeries:
    """One REST tool's series by outcome, kept on its `ServerEntry` (one dict hit per call)."""

    __slots__ = ("_labels", "_timings", "ok", "tool_error")

    def __init__(self, timings: Timings, server: str, tool: str) -> None:
        self._timings = timings
        self._labels = (server, "tools/call", tool)
        self.ok = timings.series(server, "tools/call", tool, OK)
        self.tool_error = timings.series(server, "tools/call", tool, TOOL_ERROR)

    def other(self, outcome: str) -> Series:
        return self._timings.series(*self._labels, outcome)


class EdgeMetrics:
    def __init__(self) -> None:
        self.requests = Timings(
            "mcpgw_edge_request_duration_seconds",
            "MCP requests the edge answered, by server, method, tool (tools/call) and outcome",
            ("server", "method", "tool", "outcome"))

    def tool(self, series: dict[str, ToolSeries], server: str, tool: str) -> ToolSeries:
        found = series.get(tool)
        if found is None:
            found = series[tool] = ToolSeries(self.requests, server, tool)
        return found

    def observe(self, seconds: float, server: str, method: str, outcome: str, tool: str = "") -> None:
        self.requests.observe(seconds, server, method if method in METHODS else "other", tool, outcome)

    def families(self) -> Iterator[Metric]:
        yield self.requests.family()


def mcp_span(method: str, tool: str, request_id: object, session_id: str, server: str,
             parent: Mapping[str, str] | None) -> tracing.Open:
    """The span of one MCP request (call only when tracing is on); ended with `tracing.end`."""
    attributes: dict[str, Any] = {"mcp.method.name": method, "mcpgw.server.name": server,
                                  "network.transport": "tcp", "network.protocol.name": "http"}
    if tool:
        attributes["gen_ai.tool.name"] = tool
        attributes["gen_ai.operation.name"] = "execute_tool"
    if isinstance(request_id, int | str):
        attributes["jsonrpc.request.id"] = str(request_id)
    if session_id:
        attributes["mcp.session.id"] = session_id
    name = f"{method} {tool}" if tool else method
    return tracing.start(tracer, name, trace.SpanKind.SERVER, attributes, parent)


def end_span(opened: tracing.Open, outcome: str) -> None:
    if outcome == OK:
        tracing.end(opened)
        return
    if outcome != TOOL_ERROR:
        opened.span.set_attribute("rpc.response.status_code", outcome)
    tracing.end(opened, outcome)


class Observed:
    """One MCP request off the hot path, timed and traced, in a `with`: `done(outcome)` once it is
    answered (or `answered(bytes)`); leaving the block without it counts as an internal error."""

    __slots__ = ("_method", "_metrics", "_open", "_server", "_span", "_started", "_tool")

    def __init__(self, metrics: EdgeMetrics, server: str, method: str, tool: str, request_id: object,
                 session_id: str, parent: Mapping[str, str] | None) -> None:
        self._metrics, self._server, self._method, self._tool = metrics, server, method, tool
        self._started = time.perf_counter()
        self._open = True
        self._span = mcp_span(method, tool, request_id, session_id, server, parent) if tracing.enabled() else None

    def __enter__(self) -> Observed:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if self._open:
            self.done(OK if kind is None else "cancelled" if issubclass(kind, asyncio.CancelledError) else INTERNAL)

    def done(self, outcome: str) -> None:
        if not self._open:
            return
        self._open = False
        self._metrics.observe(time.perf_counter() - self._started, self._server, self._method, outcome, self._tool)
        if self._span is not None:
            end_span(self._span, outcome)

    def answered(self, answer: bytes) -> bytes:
        self.done(outcome_of(answer, self._method))
        return answer
