"""Process lifecycle for `python -m <service>`: settings, logging, uvloop, signals, clean stop."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from prometheus_client.core import Metric

from mcpgw.runtime.metrics import serve_metrics
from mcpgw.runtime.settings import CommonSettings, SettingsError
from mcpgw.runtime.tracing import setup_tracing

S = TypeVar("S", bound=CommonSettings)


class Service(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    def metrics(self) -> Iterable[Metric]:
        """This service's metric families, read at each scrape (`mcpgw.runtime.metrics`)."""
        ...


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


READY_LINE = "mcpgw-{name} ready"
METRICS_LINE = "mcpgw-{name} metrics on http://{host}:{port}/metrics"


def tune_gc() -> None:
    """Keep the cyclic garbage collector off the hot path of a started service.

    What start-up built (settings, compiled tools, imported modules) lives as long as the process:
    `gc.freeze` moves it out of every later collection. A call allocates a few hundred objects
    that reference counting frees, but with 64 calls in flight the default first-generation
    threshold (700) still fired a collection every few calls: 5 % of the edge's samples in
    `gc_collect_main` (py-spy, make bench). 20,000 makes those rare.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


async def serve_until_signalled(name: str, service: Service, settings: CommonSettings | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    runner = None
    try:
        if settings is not None and settings.metrics_port:
            runner, port = await serve_metrics(service.metrics, settings.metrics_host, settings.metrics_port)
            print(METRICS_LINE.format(name=name, host=settings.metrics_host, port=port), file=sys.stderr, flush=True)
        tune_gc()
        # Launchers and tests wait for this exact line instead of sleeping.
        print(READY_LINE.format(name=name), file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        await service.stop()


def run(name: str, load: Callable[[], S], build: Callable[[S], Service]) -> None:
    """Entry point shared by the services' `__main__` modules."""
    try:
        settings = load()
    except SettingsError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level)
    setup_tracing(f"mcpgw-{name}")
    service = build(settings)
    try:
        import uvloop

        uvloop.run(serve_until_signalled(name, service, settings))
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # a start-up failure: say what, not a traceback
        logging.getLogger(name).error("%s failed: %s", name, exc)
        raise SystemExit(1) from None
