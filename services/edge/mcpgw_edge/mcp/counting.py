"""Statistics the edge counts itself, for a server with `mcpStatisticsEnable`: the tool calls it
refuses before any worker sees them (an unknown tool, one the consumer was not granted), and an
assembly's calls, which its sources' workers count under the sources. toolexec and hosting count
every other call (`mcpgw.runtime.stats`, batched: no Redis round trip on any call).

A tool name the server does not have is counted as `(unknown tool)`: a client names any tool, and
the statistics must not grow a cell per name it invents.
"""

from __future__ import annotations

import time

import msgspec

from mcpgw.contracts import EdgeServer
from mcpgw.runtime.stats import Stats
from mcpgw.statistics import Outcome

UNKNOWN_TOOL = "(unknown tool)"


class _Outcome(msgspec.Struct):
    isError: bool = False


_outcome = msgspec.json.Decoder(_Outcome).decode


class EdgeCounts:
    def __init__(self, stats: Stats | None) -> None:
        self.stats = stats

    def refused(self, server: EdgeServer, tool: str, known: bool, consumer: str, started: float,
                bytes_in: int = 0) -> None:
        if self.stats is not None and server.statistics:
            self.stats.record(server.server_id, tool if known else UNKNOWN_TOOL, consumer, "protocol_error",
                              (time.perf_counter() - started) * 1000, bytes_in)

    def answered(self, server: EdgeServer, tool: str, consumer: str, started: float, result: bytes | None,
                 bytes_in: int = 0) -> None:
        """One call answered through the edge: `result` is its CallToolResult, None for a JSON-RPC error."""
        if self.stats is None or not server.statistics:
            return
        outcome: Outcome
        if result is None:
            outcome = "protocol_error"
        else:
            try:
                outcome = "tool_error" if _outcome(result).isError else "ok"
            except msgspec.DecodeError:
                outcome = "protocol_error"
        self.stats.record(server.server_id, tool, consumer, outcome, (time.perf_counter() - started) * 1000,
                          bytes_in, len(result) if result is not None else 0)
