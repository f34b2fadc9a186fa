"""The statistics format (`mcpgw.statistics`): the latency histogram, its percentiles, merging, field names."""

from __future__ import annotations

from mcpgw import statistics
from mcpgw.statistics import LATENCY_BOUNDS_MS, Cell


def test_percentiles_come_from_the_histogram() -> None:
    cell = Cell()
    for _ in range(90):
        cell.add("ok", 3.0, 0, 0)  # bucket (2.5, 5]
    for _ in range(9):
        cell.add("ok", 400.0, 0, 0)  # bucket (250, 500]
    cell.add("ok", 90_000.0, 0, 0)  # past the last bound
    p50 = cell.percentile(0.50)
    assert p50 is not None and 2.5 < p50 <= 5
    assert cell.percentile(0.90) == 5.0  # the 90th call is the last of its bucket: its upper bound
    p95 = cell.percentile(0.95)
    assert p95 is not None and 250 < p95 <= 500
    assert cell.percentile(0.99) == 500.0
    assert cell.percentile(1.0) == LATENCY_BOUNDS_MS[-1]  # the open bucket answers with its lower bound
    assert Cell().percentile(0.5) is None
    view = cell.view()["latencyMs"]
    assert [b["count"] for b in view["buckets"]] == [90, 9, 1] and view["buckets"][-1]["le"] is None


def test_merged_cells_add_up_field_by_field() -> None:
    a, b = Cell(), Cell()
    a.add("tool_error", 1.0, 10, 20)
    b.add("protocol_error", 700.0, 5, 0)
    b.add("ok", 700.0, 1, 2)
    a.merge(b)
    assert (a.calls, a.tool_errors, a.protocol_errors, a.bytes_in, a.bytes_out) == (3, 1, 1, 16, 22)
    assert a.latency_ms == 1401.0 and sum(a.histogram) == 3 and a.percentile(0.99) == 1000.0


def test_a_name_may_hold_the_separator() -> None:
    assert statistics.split_field(statistics.prefix("c", "team|a") + "calls") == ("c", "team|a", "calls")
    assert statistics.split_field(statistics.prefix("s") + "h3") == ("s", "", "h3")
    assert statistics.split_field("garbage") is None
