"""Serving an aiohttp app factory's application on a host and port (0: any free port)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

# aiohttp's server messages for the apps served here; see RefusedRequests.
log = logging.getLogger(__name__)


class RefusedRequests(logging.Filter):
    """A request aiohttp's HTTP parser refused is one warning line, not an error with a traceback.

    aiohttp answers such a request itself (400: a NUL in a header, a malformed request line...)
    and logs it at ERROR with the parser's traceback, so any client could fill the log with
    tracebacks. Errors of the app's own handlers are not touched.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            problem = exc.message.splitlines()[0].rstrip(":") if exc.message else type(exc).__name__
            record.msg = f"{record.msg}: %s (answered {exc.code})"
            record.args = (*(record.args if isinstance(record.args, tuple) else ()), problem)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


log.addFilter(RefusedRequests())


async def serve_app(app: web.Application, host: str, port: int, **runner_options: Any) -> tuple[web.AppRunner, int]:
    """Start `app` (its cleanup contexts run here) and return the runner and the bound port."""
    runner = web.AppRunner(app, logger=log, **runner_options)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        # A port that is taken must not leave NATS connections and the like behind.
        await runner.cleanup()
        raise
    return runner, int(runner.addresses[0][1])
