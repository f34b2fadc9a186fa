"""Waiting for something that happens through an event (a probe, an SSE event), with a deadline and no fixed sleep."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *,
                     within: float = 2.0) -> T:
    """Re-run `probe` until `accept` holds for its result; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s; last value: {value!r}")
        await asyncio.sleep(0.01)  # yield to the event loop between probes


async def next_data(stream: aiohttp.ClientResponse, within: float = 5.0) -> Any:
    """The JSON of the next SSE event that carries data (comments and empty events skipped)."""
    data = b""
    while True:
        line = await asyncio.wait_for(stream.content.readline(), within)
        assert line, "the stream ended"
        if line.startswith(b"data:"):
            data += line[5:].strip()
        elif line in (b"\n", b"\r\n") and data:
            return json.loads(data)
