"""The shared metrics module: cheap series read at scrape time, served as Prometheus text on a port."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import aiohttp
import pytest
from mcpgw_edge.settings import EdgeSettings
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from mcpgw.runtime.metrics import (
    HTTP_OUTCOMES,
    OTHER,
    Timings,
    cache_families,
    counter,
    gauge,
    http_outcome,
    http_series,
    serve_metrics,
)
from mcpgw.runtime.settings import SettingsError, load_settings


def samples(text: str) -> dict[str, list[Sample]]:
    """Every family of a scrape by name, parsed by prometheus-client's own text parser."""
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


async def scrape(http: aiohttp.ClientSession, families: Callable[[], Iterable[Metric]]) -> dict[str, list[Sample]]:
    """What Prometheus would read from a service serving `families`, parsed."""
    runner, port = await serve_metrics(families, "127.0.0.1", 0)
    try:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            assert resp.status == 200
            return samples(await resp.text())
    finally:
        await runner.cleanup()


def value(found: dict[str, list[Sample]], family: str, sample: str, **labels: str) -> float:
    matches = [s.value for s in found[family] if s.name == sample and all(s.labels.get(k) == v
                                                                         for k, v in labels.items())]
    assert len(matches) == 1, (sample, labels, found[family])
    return matches[0]


def test_a_series_counts_into_cumulative_buckets_with_its_sum() -> None:
    timings = Timings("t_seconds", "doc", ("server", "outcome"), buckets=(0.01, 0.1, 1.0))
    ok = timings.series("s", "ok")
    assert timings.series("s", "ok") is ok  # kept: the hot path looks it up once
    for seconds in (0.005, 0.05, 0.05, 0.5, 7.0):
        ok.observe(seconds)
    family = timings.family()
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name == "t_seconds_bucket"}
    assert buckets == {"0.01": 1, "0.1": 3, "1.0": 4, "+Inf": 5}
    assert next(s.value for s in family.samples if s.name == "t_seconds_count") == 5
    assert next(s.value for s in family.samples if s.name == "t_seconds_sum") == pytest.approx(7.605)


def test_label_sets_are_bounded() -> None:
    timings = Timings("t_seconds", "doc", ("tool",), max_series=2)
    timings.observe(0.1, "a")
    timings.observe(0.1, "b")
    timings.observe(0.1, "c")
    timings.observe(0.1, "d")
    counts = {s.labels["tool"]: s.value for s in timings.family().samples if s.name == "t_seconds_count"}
    assert counts == {"a": 1, "b": 1, OTHER: 2}


async def test_metrics_are_served_as_prometheus_text_with_the_process_metrics() -> None:
    timings = Timings("mcpgw_test_duration_seconds", "doc", ("outcome",))
    timings.observe(0.02, "ok")
    hits = {"n": 0}

    def families() -> Iterator[Metric]:
        yield timings.family()
        yield gauge("mcpgw_test_open", "doc", 3)
        yield counter("mcpgw_test_events", "doc", ("kind",), [(("a",), 2)])
        yield from cache_families([("c", hits["n"], 1, 0)])

    runner, port = await serve_metrics(families, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            hits["n"] = 5  # read at scrape time, not when served
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("text/plain")
                found = samples(await resp.text())
            async with http.get(f"http://127.0.0.1:{port}/other") as resp:
                assert resp.status == 404
    finally:
        await runner.cleanup()
    assert value(found, "mcpgw_test_duration_seconds", "mcpgw_test_duration_seconds_count", outcome="ok") == 1
    assert value(found, "mcpgw_test_open", "mcpgw_test_open") == 3
    assert value(found, "mcpgw_test_events", "mcpgw_test_events_total", kind="a") == 2
    assert value(found, "mcpgw_cache_lookups", "mcpgw_cache_lookups_total", cache="c", result="hit") == 5
    assert value(found, "mcpgw_cache_lookups", "mcpgw_cache_lookups_total", cache="c", result="miss") == 1
    # What prometheus-client adds for every process.
    assert value(found, "process_resident_memory_bytes", "process_resident_memory_bytes") > 0
    assert "python_gc_collections" in found and "python_info" in found


async def test_a_failing_collector_leaves_the_rest_of_the_scrape() -> None:
    def broken() -> Iterator[Metric]:
        raise RuntimeError("boom")
        yield  # a generator

    runner, port = await serve_metrics(broken, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            assert resp.status == 200
            assert "process_cpu_seconds" in samples(await resp.text())
    finally:
        await runner.cleanup()


def test_the_metrics_port_is_a_setting_of_each_service() -> None:
    assert load_settings(EdgeSettings, "edge", {}).metrics_port == 0  # not served unless asked
    assert load_settings(EdgeSettings, "edge", {"MCPGW_EDGE_METRICS_PORT": "9464"}).metrics_port == 9464
    with pytest.raises(SettingsError, match="MCPGW_EDGE_METRICS_PORT"):
        load_settings(EdgeSettings, "edge", {"MCPGW_EDGE_METRICS_PORT": "70000"})


def test_an_http_outcome_is_the_status_class_or_failed() -> None:
    timings = Timings("h_seconds", "doc", ("backend", "outcome"))
    series = http_series(timings, "api:443")
    assert [s is timings.series("api:443", o) for s, o in zip(series, HTTP_OUTCOMES, strict=True)] == [True] * 6
    assert [HTTP_OUTCOMES[http_outcome(status)] for status in (101, 200, 204, 302, 404, 500, 599)] == [
        "1xx", "2xx", "2xx", "3xx", "4xx", "5xx", "5xx"]
