"""Prometheus metrics: cheap counting on the hot paths, read by prometheus-client at scrape time.

A labelled prometheus-client metric costs microseconds per event (`.labels(...)` builds and hashes
a key and takes a lock, `observe` takes another); the edge and toolexec spend ~40 us of CPU on a
whole call. So the hot paths count into plain Python objects instead: a `Series` (one label set's
histogram: a list of bucket counts and a sum, no lock: one event loop writes it) looked up once
per (server, tool) and kept, and plain int attributes for cache hits. Measured with timeit on this
machine: `Series.observe` 0.17 us, against 2.0 us for `Histogram.labels(a, b).observe(x)` and 0.9 us
for a pre-bound child's `observe`.
Each service hands a function yielding its metric families to `serve_metrics`; prometheus-client
turns them into the exposition format (and adds process, platform and garbage-collector metrics).

Label values never hold session ids or arguments: servers and tools are the configured ones (an
unknown tool a client names is not a label), and a `Timings` keeps at most `MAX_SERIES` label sets
(later ones are counted under `_other`).
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator

from aiohttp import web
from prometheus_client import GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from mcpgw.runtime.web import serve_app

log = logging.getLogger(__name__)

# Seconds: a warm call through the gateway takes ~1 ms, a backend may take up to its timeout.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MAX_SERIES = 5000
OTHER = "_other"

Families = Callable[[], Iterable[Metric]]


class Series:
    """The histogram of one label set: bucket counts (non-cumulative) and the sum of what was seen."""

    __slots__ = ("_bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self._bounds, seconds)] += 1
        self.total += seconds

    @property
    def count(self) -> int:
        return sum(self.counts)


class Timings:
    """A histogram metric by label set, written through `Series` kept by the hot path."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...],
                 buckets: tuple[float, ...] = BUCKETS, max_series: int = MAX_SERIES) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self.buckets = buckets
        self.max_series = max_series
        self._series: dict[tuple[str, ...], Series] = {}

    def series(self, *values: str) -> Series:
        """The series of these label values (created on first use); callers keep it for the next event."""
        found = self._series.get(values)
        if found is None:
            if len(self._series) >= self.max_series:
                values = (OTHER,) * len(values)
                found = self._series.get(values)
            if found is None:
                found = self._series[values] = Series(self.buckets)
        return found

    def observe(self, seconds: float, *values: str) -> None:
        """`series(*values).observe(seconds)`, for paths that keep no series."""
        self.series(*values).observe(seconds)

    def family(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        bounds = [_le(b) for b in self.buckets] + ["+Inf"]
        for values, series in list(self._series.items()):
            running, buckets = 0, []
            for bound, count in zip(bounds, series.counts, strict=True):
                running += count
                buckets.append((bound, running))
            family.add_metric(list(values), buckets, series.total)
        return family


# An outgoing HTTP request's outcome label: its status class, or `failed` without an answer (index 0).
HTTP_OUTCOMES = ("failed", "1xx", "2xx", "3xx", "4xx", "5xx")


def http_series(timings: Timings, *values: str) -> list[Series]:
    """The series of these label values for each of `HTTP_OUTCOMES`, in its order (the outcome is
    the last label): a caller keeps the list per destination and picks `[http_outcome(status)]`."""
    return [timings.series(*values, outcome) for outcome in HTTP_OUTCOMES]


def http_outcome(status: int) -> int:
    """The index in `HTTP_OUTCOMES` of an answer with this status."""
    return min(status // 100, 5)


def _le(bound: float) -> str:
    return repr(float(bound))


def counter(name: str, documentation: str, labels: tuple[str, ...],
            values: Iterable[tuple[tuple[str, ...], float]]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for label_values, value in values:
        family.add_metric(list(label_values), value)
    return family


def gauge(name: str, documentation: str, value: float, labels: tuple[str, ...] = (),
          label_values: tuple[str, ...] = ()) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    family.add_metric(list(label_values), value)
    return family


def cache_families(caches: Iterable[tuple[str, int, int, int]]) -> Iterator[Metric]:
    """Lookups (hit or miss) and invalidations of named caches: (name, hits, misses, invalidations)."""
    rows = list(caches)
    yield counter("mcpgw_cache_lookups", "Cache lookups by cache and result", ("cache", "result"),
                  [((name, "hit"), hits) for name, hits, _, _ in rows]
                  + [((name, "miss"), misses) for name, _, misses, _ in rows])
    yield counter("mcpgw_cache_invalidations", "Cache entries dropped by change events", ("cache",),
                  [((name,), dropped) for name, _, _, dropped in rows])


class _Reader(Collector):
    """Adapts a function yielding metric families to prometheus-client's registry."""

    def __init__(self, families: Families) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self._families())
        except Exception:  # a scrape must never take the service down; say what broke
            log.exception("collecting metrics failed")
            return []


def registry(families: Families) -> CollectorRegistry:
    """A registry of the service's own families plus the process's (CPU, memory, fds, GC, Python)."""
    found = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=found)
    PlatformCollector(registry=found)
    GCCollector(registry=found)
    found.register(_Reader(families))
    return found


async def serve_metrics(families: Families, host: str, port: int) -> tuple[web.AppRunner, int]:
    """`GET /metrics` on its own port, on this event loop (no thread shares the counters)."""
    app = web.Application()
    app.router.add_get("/metrics", make_aiohttp_handler(registry(families)))
    return await serve_app(app, host, port, access_log=None)
