"""serve_app: a request aiohttp's parser refuses is a warning line in the log, not a traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from mcpgw.runtime.web import serve_app


async def _raw(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


async def test_a_refused_request_is_one_warning_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    async def fails(request: web.Request) -> web.Response:
        raise RuntimeError("the handler's own bug")

    app = web.Application()
    app.router.add_get("/", fails)
    runner, port = await serve_app(app, "127.0.0.1", 0)
    try:
        caplog.set_level(logging.WARNING)
        answer = await _raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Probe: \x00\r\n\r\n")
        assert answer.split(b" ", 2)[1] == b"400"
        (record,) = caplog.records
        assert (record.levelno, record.exc_info) == (logging.WARNING, None)
        assert "Invalid header value char" in record.getMessage() and "(answered 400)" in record.getMessage()

        # The app's own errors keep their traceback.
        caplog.clear()
        answer = await _raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer.split(b" ", 2)[1] == b"500"
        assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
    finally:
        await runner.cleanup()
