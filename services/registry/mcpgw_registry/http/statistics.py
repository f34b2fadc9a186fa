"""`GET /v1/mcp-servers/{server_id}/statistics?from=&to=&groupBy=tool|consumer|minute` (§5.5).

Reads the per-minute buckets toolexec and hosting write to Redis (format: `mcpgw.statistics`).
`from`/`to` are Unix milliseconds (default: the last hour), both minutes included; the range may
span at most the statistics window, since nothing older is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from mcpgw import statistics
from mcpgw.contracts import RedisKeys
from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok

GROUP_BY = ("tool", "consumer", "minute")
DEFAULT_SPAN_MS = 3600 * 1000
# Year 33658: far past any real timestamp, and small enough for float arithmetic to stay exact.
MAX_MS = 10**15


@dataclass(slots=True)
class StatisticsSource:
    """Put on the app by its Redis cleanup context (`app._redis`)."""

    redis: aioredis.Redis
    keys: RedisKeys
    window_seconds: float


STATISTICS = web.AppKey("statistics", StatisticsSource)
routes = web.RouteTableDef()


def _millis(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"expected Unix milliseconds (an integer), got {raw[:40]!r}") from None
    if not 0 <= value <= MAX_MS:
        raise invalid(name, f"must be between 0 and {MAX_MS} (Unix milliseconds)")
    return value


def parse_range(query: Mapping[str, str], window_seconds: float, now_ms: int) -> tuple[int, int, str | None]:
    """(from ms, to ms, groupBy) of a request, or a 400 naming the parameter at fault."""
    end = _millis(query, "to", now_ms)
    start = _millis(query, "from", end - DEFAULT_SPAN_MS)
    if start > end:
        raise invalid("from", f"must not be after to ({start} > {end})")
    if end - start > window_seconds * 1000:
        raise invalid("from", f"the range may span at most the statistics window ({int(window_seconds)} s); "
                              f"it spans {(end - start) // 1000} s")
    group_by = query.get("groupBy")
    if group_by is not None and group_by not in GROUP_BY:
        raise invalid("groupBy", f"unknown value {group_by[:40]!r}; expected {', '.join(GROUP_BY)}")
    return start, end, group_by


@routes.get("/v1/mcp-servers/{server_id}/statistics")
async def get_statistics(request: web.Request) -> web.Response:
    source = request.app[STATISTICS]
    start, end, group_by = parse_range(request.query, source.window_seconds, context.now_ms())
    record, _ = await context.registry(request).servers.get(request.match_info["server_id"])
    try:
        minutes = await statistics.read_minutes(source.redis, source.keys, record.id,
                                                statistics.minute_of(start / 1000), statistics.minute_of(end / 1000))
    except (RedisError, OSError) as exc:
        raise McpgwError(ErrorCode.NO_RESPONDERS, f"statistics: Redis did not answer ({type(exc).__name__})") from None
    data: dict[str, Any] = {"mcpServerId": record.id, "statisticsEnabled": record.statistics, "from": start,
                            "to": end, "totals": statistics.totals(minutes).view()}
    if group_by == "minute":
        data["groupBy"] = group_by
        data["groups"] = [{"key": str(m.minute * 60_000), **m.server.view()} for m in minutes]
    elif group_by in ("tool", "consumer"):
        data["groupBy"] = group_by
        cells = statistics.grouped(minutes, "tool" if group_by == "tool" else "consumer")
        data["groups"] = [{"key": name, **cell.view()} for name, cell in sorted(cells.items())]
    return ok(request, data)
