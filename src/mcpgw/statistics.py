"""The statistics format (§5.5 `mcpStatisticsEnable`): one home for what toolexec and hosting write and
the registry reads.

One Redis hash per server per minute, `<root>:stats:<server_id>:<unix minute>`, expiring after the
window (default 7 days). Its fields are `<dim>|<name>|<metric>`: dim `s` (the server, name empty),
`t` (a tool) or `c` (a consumer; name empty when the caller was anonymous); metrics `calls`,
`tool_errors` (a result with `isError`), `protocol_errors` (a JSON-RPC error instead of a result),
`bytes_in`, `bytes_out`, `latency_ms` (a sum) and `h<i>`, the count of calls in latency bucket i.

Latency is a fixed-bucket histogram (bounds below, in ms) rather than samples: buckets of many
minutes, tools or consumers add up field by field, and p50/p95/p99 come from the merged counts,
exact to within the bucket holding them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import redis.asyncio as aioredis

from mcpgw.contracts import RedisKeys

DEFAULT_WINDOW_SECONDS = 7 * 24 * 3600

# Upper bounds (ms) of the latency buckets; one more bucket holds everything slower than the last.
LATENCY_BOUNDS_MS: tuple[float, ...] = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000,
                                        60_000)
BUCKETS = len(LATENCY_BOUNDS_MS) + 1

Outcome = Literal["ok", "tool_error", "protocol_error"]
Dimension = Literal["s", "t", "c"]
SEPARATOR = "|"
_INTEGER_METRICS = ("calls", "tool_errors", "protocol_errors", "bytes_in", "bytes_out")


def latency_bucket(latency_ms: float) -> int:
    return bisect.bisect_left(LATENCY_BOUNDS_MS, latency_ms)


def minute_of(unix_seconds: float) -> int:
    return int(unix_seconds // 60)


@dataclass(slots=True)
class Cell:
    """The counts of one dimension value (the server, a tool, a consumer) over some minutes."""

    calls: int = 0
    tool_errors: int = 0
    protocol_errors: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    latency_ms: float = 0.0
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def add(self, outcome: Outcome, latency_ms: float, bytes_in: int, bytes_out: int, bucket: int = -1) -> None:
        """Count one call; `bucket`: its latency bucket when the caller has it already."""
        self.calls += 1
        if outcome == "tool_error":
            self.tool_errors += 1
        elif outcome == "protocol_error":
            self.protocol_errors += 1
        self.bytes_in += bytes_in
        self.bytes_out += bytes_out
        self.latency_ms += latency_ms
        self.histogram[bucket if bucket >= 0 else latency_bucket(latency_ms)] += 1

    def merge(self, other: Cell) -> None:
        self.calls += other.calls
        self.tool_errors += other.tool_errors
        self.protocol_errors += other.protocol_errors
        self.bytes_in += other.bytes_in
        self.bytes_out += other.bytes_out
        self.latency_ms += other.latency_ms
        for i, count in enumerate(other.histogram):
            self.histogram[i] += count

    def fields(self, prefix: str) -> Iterable[tuple[str, int]]:
        """The non-zero integer fields of the hash (the latency sum goes by HINCRBYFLOAT)."""
        for metric in _INTEGER_METRICS:
            value = getattr(self, metric)
            if value:
                yield prefix + metric, value
        for i, count in enumerate(self.histogram):
            if count:
                yield f"{prefix}h{i}", count

    def set_field(self, metric: str, raw: str) -> None:
        if metric in _INTEGER_METRICS:
            setattr(self, metric, getattr(self, metric) + int(raw))
        elif metric == "latency_ms":
            self.latency_ms += float(raw)
        elif metric.startswith("h") and metric[1:].isdigit() and int(metric[1:]) < BUCKETS:
            self.histogram[int(metric[1:])] += int(raw)

    def percentile(self, q: float) -> float | None:
        """The latency (ms) below which a share q of the calls fell, interpolated inside its bucket;
        None without calls. The open last bucket answers with its lower bound."""
        total = sum(self.histogram)
        if total == 0:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        for i, count in enumerate(self.histogram):
            if count and seen + count >= rank:
                if i == len(LATENCY_BOUNDS_MS):
                    return float(LATENCY_BOUNDS_MS[-1])
                low = 0.0 if i == 0 else float(LATENCY_BOUNDS_MS[i - 1])
                high = float(LATENCY_BOUNDS_MS[i])
                return round(low + (high - low) * (rank - seen) / count, 3)
            seen += count
        raise AssertionError("unreachable: rank <= total")

    def view(self) -> dict[str, Any]:
        """The API's shape of a cell."""
        return {
            "calls": self.calls,
            "toolErrors": self.tool_errors,
            "protocolErrors": self.protocol_errors,
            "bytesIn": self.bytes_in,
            "bytesOut": self.bytes_out,
            "latencyMs": {
                "avg": round(self.latency_ms / self.calls, 3) if self.calls else None,
                "p50": self.percentile(0.50),
                "p95": self.percentile(0.95),
                "p99": self.percentile(0.99),
                "buckets": [{"le": bound, "count": count} for bound, count in
                            zip((*LATENCY_BOUNDS_MS, None), self.histogram, strict=True) if count],
            },
        }


def prefix(dim: Dimension, name: str = "") -> str:
    return f"{dim}{SEPARATOR}{name}{SEPARATOR}"


def split_field(raw: str) -> tuple[str, str, str] | None:
    """(dim, name, metric) of a hash field; a name may itself hold the separator."""
    dim, sep, rest = raw.partition(SEPARATOR)
    name, sep2, metric = rest.rpartition(SEPARATOR)
    if not sep or not sep2 or dim not in ("s", "t", "c"):
        return None
    return dim, name, metric


@dataclass(slots=True)
class Minute:
    """One minute of one server, decoded: its server-wide cell and those of its tools and consumers."""

    minute: int
    server: Cell = field(default_factory=Cell)
    tools: dict[str, Cell] = field(default_factory=dict)
    consumers: dict[str, Cell] = field(default_factory=dict)

    @classmethod
    def decode(cls, minute: int, fields: dict[str, str]) -> Minute:
        decoded = cls(minute)
        for raw, value in fields.items():
            parts = split_field(raw)
            if parts is None:
                continue
            dim, name, metric = parts
            if dim == "s":
                cell = decoded.server
            else:
                cells = decoded.tools if dim == "t" else decoded.consumers
                cell = cells.get(name) or cells.setdefault(name, Cell())
            cell.set_field(metric, value)
        return decoded


async def read_minutes(client: aioredis.Redis, keys: RedisKeys, server_id: str, first: int,
                       last: int) -> list[Minute]:
    """The minutes [first, last] of a server that saw calls, oldest first: one pipeline of HGETALLs."""
    minutes = range(first, last + 1)
    async with client.pipeline(transaction=False) as pipe:
        for minute in minutes:
            pipe.hgetall(keys.stats_minute(server_id, minute))
        answers: list[dict[Any, Any]] = await pipe.execute()
    found = []
    for minute, fields in zip(minutes, answers, strict=True):
        if fields:
            text = {_text(k): _text(v) for k, v in fields.items()}
            found.append(Minute.decode(minute, text))
    return found


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def totals(minutes: Iterable[Minute]) -> Cell:
    total = Cell()
    for minute in minutes:
        total.merge(minute.server)
    return total


def grouped(minutes: Iterable[Minute], by: Literal["tool", "consumer"]) -> dict[str, Cell]:
    groups: dict[str, Cell] = {}
    for minute in minutes:
        for name, cell in (minute.tools if by == "tool" else minute.consumers).items():
            mine = groups.get(name) or groups.setdefault(name, Cell())
            mine.merge(cell)
    return groups
