"""The upstream SSE reader against bytes as real servers frame them (split anywhere, any line ending)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp.base_protocol import BaseProtocol
from mcpgw_hosting.upstream.sse import Event, EventRefused, full_events


def _reader(*chunks: bytes) -> aiohttp.StreamReader:
    protocol = BaseProtocol(asyncio.get_running_loop())
    reader = aiohttp.StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    for chunk in chunks:
        reader.feed_data(chunk)
    reader.feed_eof()
    return reader


async def _all(*chunks: bytes, limit: int = 1 << 20) -> list[tuple[str, str, str | None, int | None]]:
    out: list[Event] = [e async for e in full_events(_reader(*chunks), limit)]
    return [(e.kind, e.data, e.id, e.retry) for e in out]


async def test_events_split_across_chunks_with_every_line_ending() -> None:
    stream = (b"event: endpoint\r\ndata: /messages?x=1\r\n\r\n: a comment\n\n"
              b"data: {\"a\":\rdata: 1}\r\rid: 7\nretry: 200\n\n")
    whole = await _all(stream)
    assert whole == [("endpoint", "/messages?x=1", None, None), ("message", '{"a":\n1}', None, None),
                     ("message", "", "7", 200)]
    # Byte by byte gives the same events (a CR at a chunk's end waits for a possible LF).
    assert await _all(*(bytes([b]) for b in stream)) == whole


async def test_a_field_without_a_space_and_an_unknown_field() -> None:
    assert await _all(b"data:x\nfoo: bar\n\n") == [("message", "x", None, None)]


async def test_an_event_larger_than_the_limit_is_refused() -> None:
    with pytest.raises(EventRefused):
        await _all(b"data: " + b"x" * 100 + b"\n\n", limit=50)
    with pytest.raises(EventRefused):  # no line end in sight: the buffer must not grow without bound
        await _all(b"data: " + b"x" * 100, limit=50)


async def test_a_message_nested_deeper_than_the_limit_is_refused_before_anything_decodes_it() -> None:
    deep = "[" * 129 + "]" * 129
    with pytest.raises(EventRefused, match="nesting too deep"):
        await _all(f"data: {deep}\n\n".encode())
    # At the limit it passes, and an event that is not a message (an endpoint) is not JSON at all.
    limit = "[" * 128 + "]" * 128
    assert await _all(f"data: {limit}\n\nevent: endpoint\ndata: {deep}\n\n".encode()) == [
        ("message", limit, None, None), ("endpoint", deep, None, None)]
