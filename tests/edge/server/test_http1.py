"""The edge's own HTTP/1.1 server against raw bytes: what a hostile or broken client can send.

Each test talks to a real `HttpServer` on a loopback port over a plain socket. Deadlines are set
short (and the sweep runs every 20 ms) so that slow-client cases end in well under a second; the
tests wait for the server's answer or its close, never for a fixed time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from mcpgw_edge.http import EventSink, EventStream, Request, Response
from mcpgw_edge.server.limits import Limits
from mcpgw_edge.server.listener import HttpServer
from mcpgw_edge.transports.replies import read_body

from tests.edge.server.wire import WAIT, Wire

LIMITS = Limits(max_header_bytes=4096, max_body_bytes=1024, request_timeout=0.3, keepalive_timeout=0.3,
                write_timeout=0.3)


@dataclass
class Backstage:
    """What the test handler saw."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    stream_ended: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0
    requests: list[Request] = field(default_factory=list)


async def _handler(request: Request, seen: Backstage) -> Response | EventStream:
    seen.requests.append(request)
    seen.arrived.set()
    if request.path == "/echo":
        body = await read_body(request, LIMITS.max_body_bytes)
        if isinstance(body, Response):
            return body
        return Response(200, body, [("content-type", "text/plain"), ("x-query", request.query_string)])
    if request.path == "/hang":
        try:
            await asyncio.Event().wait()
        finally:
            seen.cancelled.set()
    if request.path == "/refuse":  # answers without reading the body
        return Response(401, b"no")
    if request.path == "/split":
        return Response(200, b"", [("x-bad", "a\r\nset-cookie: evil=1")])
    if request.path == "/boom":
        raise RuntimeError("handler bug")
    if request.path == "/stream":
        async def run(sink: EventSink) -> None:
            try:
                for i in range(3):
                    await sink.send(b"data: %d\n\n" % i)
                    seen.sent += 1
            finally:
                seen.stream_ended.set()
        return EventStream(run)
    if request.path == "/flood":  # more than any socket buffer holds, to a client that reads nothing
        async def flood(sink: EventSink) -> None:
            try:
                chunk = b"x" * 65536
                while True:
                    await sink.send(chunk)
                    seen.sent += 1
            finally:
                seen.stream_ended.set()
        return EventStream(flood)
    return Response(200, b"ok", [("content-type", "text/plain")])


@pytest.fixture
async def seen() -> Backstage:
    return Backstage()


@pytest.fixture
async def port(seen: Backstage) -> AsyncIterator[int]:
    async def handler(request: Request) -> Response | EventStream:
        return await _handler(request, seen)

    server = HttpServer(handler, "127.0.0.1", 0, LIMITS, sweep_every=0.02)
    await server.start()
    yield server.port
    await server.stop(grace=1)


@pytest.fixture
async def wire(port: int) -> AsyncIterator[Wire]:
    connection = await Wire.open(port)
    yield connection
    connection.close()


def get(path: str = "/", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n".encode()


def post(path: str, body: bytes, extra: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() + body


async def test_keep_alive_answers_several_requests_on_one_connection(wire: Wire) -> None:
    await wire.send(get())
    first = await wire.answer()
    await wire.send(post("/echo?x=1", b"hello"))
    second, = (await wire.answers(2))[1:]
    assert (first.status, first.body, first.headers["content-length"]) == (200, b"ok", "2")
    assert first.headers["date"].endswith("GMT") and "connection" not in first.headers
    assert (second.status, second.body, second.headers["x-query"]) == (200, b"hello", "x=1")


async def test_header_values_lose_the_whitespace_around_them(wire: Wire, seen: Backstage) -> None:
    await wire.send(get("/", "Mcp-Name:   get_pet \t \r\nX-Inner: a  b\r\n"))
    assert (await wire.answer()).status == 200
    assert seen.requests[-1].header("mcp-name") == "get_pet"  # RFC 9110 5.5
    assert seen.requests[-1].header("x-inner") == "a  b"


async def test_pipelined_requests_are_answered_in_order(wire: Wire) -> None:
    await wire.send(post("/echo", b"one") + get("/") + post("/echo", b"three"))
    answers = await wire.answers(3)
    assert [a.body for a in answers] == [b"one", b"ok", b"three"]


async def test_a_chunked_request_body_arrives_whole(wire: Wire) -> None:
    await wire.send(b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert (await wire.answer()).body == b"hello world"


@pytest.mark.parametrize(("raw", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabc", 400),
    # Content-Length and Transfer-Encoding together: the classic request smuggling opener.
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n b\r\n\r\n", 400),  # obs-fold
    (b"GET / HTTP/1.1\nHost: h\n\n", 400),  # bare LF
    (b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", 501),
])
async def test_malformed_and_ambiguous_requests_are_refused_and_the_connection_closed(
        wire: Wire, raw: bytes, status: int, seen: Backstage) -> None:
    await wire.send(raw)
    answer = await wire.answer()
    assert answer.status == status
    assert answer.headers["connection"] == "close"
    assert await wire.closed_by_server()
    assert not seen.requests  # none of them reached the handler


async def test_headers_past_the_limit_get_431(wire: Wire, seen: Backstage) -> None:
    await wire.send(b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
    assert (await wire.answer()).status == 431
    assert await wire.closed_by_server()
    assert not seen.requests


async def test_a_request_line_past_the_limit_gets_431(wire: Wire) -> None:
    await wire.send(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: h\r\n\r\n")
    assert (await wire.answer()).status == 431


async def test_a_body_past_the_limit_gets_413_and_the_connection_closes(wire: Wire) -> None:
    await wire.send(post("/echo", b"x" * 2000))
    answer = await wire.answer()
    assert answer.status == 413
    assert await wire.closed_by_server()


async def test_a_chunked_body_past_the_limit_gets_413(wire: Wire) -> None:
    await wire.send(b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + b"400\r\n" + b"x" * 1024 + b"\r\n" + b"400\r\n" + b"x" * 1024 + b"\r\n")
    assert (await wire.answer()).status == 413
    assert await wire.closed_by_server()


async def test_a_client_that_stops_in_the_headers_gets_408(wire: Wire) -> None:
    await wire.send(b"GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ")
    assert (await wire.answer()).status == 408
    assert await wire.closed_by_server()


async def test_a_client_that_stops_in_the_body_gets_408(wire: Wire) -> None:
    await wire.send(post("/echo", b"x" * 100)[:-50])
    answer = await wire.answer()
    assert answer.status == 408
    assert await wire.closed_by_server()


async def test_a_connection_that_never_sends_is_closed(wire: Wire) -> None:
    assert await wire.closed_by_server()


async def test_an_idle_keep_alive_connection_is_closed(wire: Wire) -> None:
    await wire.send(get())
    assert (await wire.answer()).status == 200
    assert await wire.closed_by_server()


async def test_a_half_closed_client_still_gets_its_answer(wire: Wire) -> None:
    await wire.send(post("/echo", b"bye"))
    wire.writer.write_eof()
    assert (await wire.answer()).body == b"bye"
    assert await wire.closed_by_server()


async def test_a_client_that_goes_away_cancels_its_handler(wire: Wire, seen: Backstage) -> None:
    await wire.send(get("/hang"))
    await asyncio.wait_for(seen.arrived.wait(), WAIT)
    wire.writer.transport.abort()
    await asyncio.wait_for(seen.cancelled.wait(), WAIT)


async def test_an_answer_before_the_body_was_read_closes_the_connection(wire: Wire) -> None:
    # The unread body would otherwise be parsed as the next request.
    await wire.send(post("/refuse", b"GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n")[:-10])
    answer = await wire.answer()
    assert (answer.status, answer.headers["connection"]) == (401, "close")
    assert await wire.closed_by_server()


async def test_expect_100_continue_gets_an_interim_answer_before_the_body(wire: Wire) -> None:
    await wire.send(b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    await wire.interim()
    await wire.send(b"body")
    assert (await wire.answer()).body == b"body"
    assert wire.informational == [100]


async def test_a_pipelined_100_continue_waits_for_the_answers_before_it(wire: Wire) -> None:
    await wire.send(get("/") + b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
                    b"Expect: 100-continue\r\n\r\n")
    first = await asyncio.wait_for(wire.reader.readline(), WAIT)
    assert first.startswith(b"HTTP/1.1 200"), first  # not the 100 meant for the request behind it


async def test_many_pipelined_requests_are_all_answered_in_order(wire: Wire) -> None:
    # More than the server queues: it stops reading, answers, and reads on.
    await wire.send(b"".join(post("/echo", str(i).encode()) for i in range(100)))
    answers = await wire.answers(100)
    assert [a.body for a in answers] == [str(i).encode() for i in range(100)]


async def test_http_1_0_is_answered_and_closed(wire: Wire) -> None:
    await wire.send(b"GET / HTTP/1.0\r\n\r\n")
    answer = await wire.answer()
    assert (answer.status, answer.headers["connection"]) == (200, "close")
    assert await wire.closed_by_server()


async def test_a_header_value_with_a_line_break_never_reaches_the_wire(wire: Wire) -> None:
    await wire.send(get("/split"))
    answer = await wire.answer()
    assert answer.status == 500 and "set-cookie" not in answer.headers


async def test_a_failing_handler_is_a_500_without_a_traceback(wire: Wire) -> None:
    await wire.send(get("/boom"))
    answer = await wire.answer()
    assert answer.status == 500 and b"Traceback" not in answer.body


async def test_an_event_stream_is_chunked_and_ends_cleanly(wire: Wire, seen: Backstage) -> None:
    await wire.send(get("/stream"))
    answer = await wire.answer()
    assert answer.headers["transfer-encoding"] == "chunked"
    assert answer.headers["content-type"] == "text/event-stream"
    assert answer.body == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
    await wire.send(get())  # the connection stays usable after the stream's last chunk
    assert (await wire.answers(2))[1].body == b"ok"


async def test_a_client_that_reads_nothing_holds_the_stream_back_then_loses_it(wire: Wire, seen: Backstage) -> None:
    await wire.send(get("/flood"))
    # Back-pressure: sends stop once the socket buffers are full, and the write timeout then
    # ends the stream instead of buffering without bound.
    await asyncio.wait_for(seen.stream_ended.wait(), WAIT)
    assert seen.sent < 200  # 13 MB would have been written without back-pressure
