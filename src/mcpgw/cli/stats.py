"""`mcpgw stats <server>`: a server's call statistics (`GET /v1/mcp-servers/{id}/statistics`), counted
only while the server has `mcpStatisticsEnable`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from mcpgw.cli.client import SERVERS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.errors import UsageError
from mcpgw.cli.output import Output, when


def _ms(value: Any) -> str:
    return "" if value is None else f"{value:g}"


def _row(key: str, cell: dict[str, Any]) -> tuple[str, ...]:
    latency = cell["latencyMs"]
    return (key, str(cell["calls"]), str(cell["toolErrors"]), str(cell["protocolErrors"]), _ms(latency["p50"]),
            _ms(latency["p95"]), _ms(latency["p99"]), str(cell["bytesIn"]), str(cell["bytesOut"]))


HEADERS = ("", "CALLS", "TOOL ERR", "PROTO ERR", "P50 MS", "P95 MS", "P99 MS", "BYTES IN", "BYTES OUT")


async def _stats(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    if args.minutes < 1:
        raise UsageError("--minutes: at least 1")
    server_id = await admin.resolve(SERVERS, args.server)
    end = int(time.time() * 1000)
    params = {"from": str(end - args.minutes * 60_000), "to": str(end)}
    if args.by:
        params["groupBy"] = args.by
    data = await admin.call("GET", path("/v1/mcp-servers", server_id, "statistics"), params=params)
    if out.as_json:
        out.json(data)
        return
    if not data.get("statisticsEnabled"):
        out.note("statistics are off for this server (mcpStatisticsEnable); older counts may still show")
    rows = [_row("total", data["totals"])]
    for group in data.get("groups", []):
        key = when(int(group["key"])) if args.by == "minute" else (group["key"] or "(anonymous)")
        rows.append(_row(key, group))
    headers = (args.by.upper() if args.by else "", *HEADERS[1:])
    out.table(headers, rows, empty="no calls")


def register(commands: Commands) -> None:
    stats = commands.single("stats", _stats, "a server's call statistics (calls, errors, latency, bytes)")
    stats.add_argument("server", help="name or mcp-… id")
    stats.add_argument("--minutes", type=int, default=60, help="the last N minutes (default %(default)s)")
    stats.add_argument("--by", choices=("tool", "consumer", "minute"), help="one row per tool, consumer or minute")
