"""The pooled HTTP/1.1 client on its own: reuse, framing, limits, timeouts, TLS.

Real servers on loopback throughout: aiohttp where an ordinary backend will do, and a server on
asyncio streams where a test must control every byte and every close.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gzip
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from mcpgw_toolexec import http11
from mcpgw_toolexec.backend import BackendClient, BackendResponse
from mcpgw_toolexec.failures import ToolFailure
from mcpgw_toolexec.request import BackendRequest
from mcpgw_toolexec.settings import ToolexecSettings
from multidict import CIMultiDict

from tests.tls import self_signed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request(method: str, url: str, body: bytes | None = None,
            headers: Mapping[str, str] | None = None) -> BackendRequest:
    return BackendRequest(method, url, CIMultiDict({"Accept": "*/*", "User-Agent": "test", **(headers or {})}), body)


@asynccontextmanager
async def backend_client(**overrides: Any) -> AsyncIterator[BackendClient]:
    values: dict[str, Any] = {"backend_timeout": 5.0, "backend_connect_timeout": 2.0, **overrides}
    client = BackendClient(ToolexecSettings(**values))
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@dataclass
class AioBackend:
    """An aiohttp server whose handlers see which client port each request came from."""

    url: str
    ports: list[int] = field(default_factory=list)


@asynccontextmanager
async def aiohttp_backend(routes: Mapping[str, Handler], *, ssl_context: ssl.SSLContext | None = None,
                          **runner_options: Any) -> AsyncIterator[AioBackend]:
    backend = AioBackend(url="")

    async def handle(req: web.Request) -> web.StreamResponse:
        assert req.transport is not None
        backend.ports.append(req.transport.get_extra_info("peername")[1])
        return await routes[req.path](req)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, **runner_options)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
    backend.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield backend
    finally:
        await runner.cleanup()


@dataclass
class RawRequest:
    method: str
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    port: int  # the client's port
    index: int  # 0 for the first request on its connection
    reader: asyncio.StreamReader


# What a raw server sends for a request: bytes, or None to close the connection without a word.
Answer = Callable[[RawRequest], Awaitable[bytes | None]]


class RawServer:
    """HTTP/1.1 on asyncio streams: keep-alive, Content-Length bodies, and nothing hidden."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[RawRequest] = []
        self.open = 0
        self.most_open = 0
        self.closed_by_client = 0
        self.url = ""
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:  # handlers still reading see EOF and end
            writer.close()
        await asyncio.gather(*self._handlers)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        port = writer.get_extra_info("peername")[1]
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            for index in range(1_000_000):
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    self.closed_by_client += 1
                    return
                line, *fields = head.decode().split("\r\n")[:-2]
                method, target, _ = line.split(" ")
                headers = {k.lower(): v for k, _, v in (f.partition(": ") for f in fields)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                raw = RawRequest(method, target, headers, body, port, index, reader)
                self.requests.append(raw)
                reply = await self.answer(raw)
                if reply is None:
                    return
                writer.write(reply)
                await writer.drain()
                if b"\r\nconnection: close\r\n" in reply.split(b"\r\n\r\n")[0].lower() + b"\r\n":
                    return
        except ConnectionError:
            pass
        finally:
            self.open -= 1
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()


def ok(body: bytes = b"ok", *extra: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in (f"Content-Length: {len(body)}", *extra))
    return f"HTTP/1.1 200 OK\r\n{head}\r\n".encode() + body


async def test_sequential_calls_reuse_one_connection() -> None:
    async def hello(req: web.Request) -> web.Response:
        return web.json_response({"hello": "world"})

    async with aiohttp_backend({"/hello": hello}) as backend, backend_client() as client:
        for _ in range(3):
            answer = await client.send(request("GET", backend.url + "/hello"))
            assert answer.status == 200 and answer.body == b'{"hello": "world"}'
    assert len(backend.ports) == 3 and len(set(backend.ports)) == 1


async def test_what_the_backend_receives() -> None:
    seen: list[RawRequest] = []

    async def record(req: RawRequest) -> bytes:
        seen.append(req)
        return ok()

    async with RawServer(record) as server, backend_client() as client:
        await client.send(request("POST", server.url + "/a/b%20c?x=1&y=%2F"))
        await client.send(request("PUT", server.url + "/p", b'{"k": 1}', {"Content-Type": "application/json"}))
        await client.send(request("GET", server.url.replace("127.0.0.1", "user:p%40ss@127.0.0.1") + "/auth"))
        await client.send(request("GET", server.url + "/", headers={"Accept-Encoding": "identity"}))
    post, put, auth, plain = seen
    assert (post.method, post.target, post.body) == ("POST", "/a/b%20c?x=1&y=%2F", b"")
    assert post.headers["host"] == server.url.removeprefix("http://")
    # An empty POST still says so; no Transfer-Encoding ever; compressed answers are welcome.
    assert post.headers["content-length"] == "0" and "transfer-encoding" not in post.headers
    assert post.headers["accept-encoding"] == "gzip, deflate"
    assert post.headers["connection"] == "keep-alive"
    assert (put.body, put.headers["content-length"], put.headers["content-type"]) == (
        b'{"k": 1}', "8", "application/json")
    assert auth.headers["authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert "user" not in auth.target and auth.headers["host"] == server.url.removeprefix("http://")
    assert plain.headers["accept-encoding"] == "identity" and "content-length" not in plain.headers


async def test_a_backend_closing_idle_connections_is_not_an_error() -> None:
    async def hello(req: web.Request) -> web.Response:
        return web.Response(text="hi")

    async with aiohttp_backend({"/hello": hello}, keepalive_timeout=0.05) as backend, backend_client() as client:
        for method in ("GET", "POST"):
            assert (await client.send(request(method, backend.url + "/hello"))).body == b"hi"
            await asyncio.sleep(0.3)  # the backend drops the idle connection meanwhile
        assert (await client.send(request("GET", backend.url + "/hello"))).body == b"hi"
    assert len(set(backend.ports)) == 3


async def test_a_kept_alive_connection_dropped_under_a_request_retries_only_idempotent_methods() -> None:
    async def drop_second(req: RawRequest) -> bytes | None:
        # The race a pool cannot see coming: the backend closes a kept-alive connection just as
        # the next request goes out on it.
        return ok(req.method.encode()) if req.index == 0 else None

    async with RawServer(drop_second) as server:
        for method in ("GET", "PUT", "DELETE"):
            server.requests.clear()
            async with backend_client() as client:
                assert (await client.send(request(method, server.url + "/x"))).body == method.encode()
                assert (await client.send(request(method, server.url + "/x"))).body == method.encode()
            # The second call went out twice: dropped on the kept-alive connection, then on a new one.
            assert [(r.method, r.index) for r in server.requests] == [(method, 0), (method, 1), (method, 0)]

        server.requests.clear()
        async with backend_client() as client:
            assert (await client.send(request("POST", server.url + "/x"))).body == b"POST"
            with pytest.raises(ToolFailure) as failure:
                await client.send(request("POST", server.url + "/x"))
        assert failure.value.message == "backend closed the connection without a complete answer"
        assert [r.method for r in server.requests] == ["POST", "POST"]  # not sent a third time


async def test_chunked_gzip_deflate_and_read_until_close_bodies() -> None:
    text = b"hello chunked world " * 200

    async def chunked(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(req)
        for i in range(0, len(text), 333):
            await resp.write(text[i:i + 333])
        await resp.write_eof()
        return resp

    async def zipped(req: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(text), headers={"Content-Encoding": "gzip"})

    async def zipped_chunks(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Encoding": "gzip"})
        resp.enable_chunked_encoding()
        await resp.prepare(req)
        packed = gzip.compress(text)
        for i in range(0, len(packed), 50):
            await resp.write(packed[i:i + 50])
        await resp.write_eof()
        return resp

    async def deflated(req: web.Request) -> web.Response:
        return web.Response(body=zlib.compress(text), headers={"Content-Encoding": "deflate"})

    async def raw_deflated(req: web.Request) -> web.Response:  # deflate without the zlib wrapper
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return web.Response(body=packer.compress(text) + packer.flush(), headers={"Content-Encoding": "deflate"})

    routes = {"/chunked": chunked, "/gzip": zipped, "/gzip-chunks": zipped_chunks, "/deflate": deflated,
              "/raw-deflate": raw_deflated}
    async with aiohttp_backend(routes) as backend, backend_client() as client:
        for path in routes:
            answer = await client.send(request("GET", backend.url + path))
            assert answer.body == text, path
            assert "Content-Encoding" not in answer.headers, path
    assert len(set(backend.ports)) == 1

    async def until_close(req: RawRequest) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + text

    async def old_server(req: RawRequest) -> bytes:
        return b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"

    for answer_with, body in ((until_close, text), (old_server, b"hi")):
        async with RawServer(answer_with) as server, backend_client() as client:
            for _ in range(2):
                assert (await client.send(request("GET", server.url + "/"))).body == body
            # Neither may be reused: each call had a connection of its own.
            assert len({r.port for r in server.requests}) == 2


async def test_connection_close_answers_are_not_reused() -> None:
    async def closing(req: web.Request) -> web.Response:
        return web.Response(text="bye", headers={"Connection": "close"})

    async with aiohttp_backend({"/bye": closing}) as backend, backend_client() as client:
        for _ in range(3):
            answer = await client.send(request("GET", backend.url + "/bye"))
            assert (answer.status, answer.body) == (200, b"bye")
    assert len(set(backend.ports)) == 3


async def test_answers_over_the_size_limit() -> None:
    async def sized(req: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1001)

    async def streamed(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(req)
        for _ in range(5):
            await resp.write(b"y" * 300)
        await resp.write_eof()
        return resp

    async def bomb(req: web.Request) -> web.Response:  # 1 MB of zeros in ~1 KB
        return web.Response(body=gzip.compress(bytes(1_000_000)), headers={"Content-Encoding": "gzip"})

    async def exact(req: web.Request) -> web.Response:
        return web.Response(body=b"z" * 1000)

    routes = {"/sized": sized, "/streamed": streamed, "/bomb": bomb, "/exact": exact}
    async with aiohttp_backend(routes) as backend, backend_client(max_response_bytes=1000) as client:
        for path in ("/sized", "/streamed", "/bomb"):
            with pytest.raises(ToolFailure) as failure:
                await client.send(request("GET", backend.url + path))
            assert failure.value.message == "backend response larger than 1000 bytes", path
        assert (await client.send(request("GET", backend.url + "/exact"))).body == b"z" * 1000
    # A connection abandoned mid-body is closed: every refusal cost one, the last call a fresh one.
    assert len(set(backend.ports)) == 4

    async def no_length(req: RawRequest) -> bytes:
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"w" * 5000

    async with RawServer(no_length) as server, backend_client(max_response_bytes=1000) as client:
        with pytest.raises(ToolFailure, match=r"^backend response larger than 1000 bytes$"):
            await client.send(request("GET", server.url + "/"))


async def test_no_body_answers_keep_the_connection_in_step() -> None:
    async def empty(req: web.Request) -> web.Response:
        return web.Response(status=204)

    async def not_modified(req: web.Request) -> web.Response:
        return web.Response(status=304, headers={"ETag": '"v1"'})

    async def item(req: web.Request) -> web.Response:
        # HEAD included: a Content-Length the client must not wait for (aiohttp sends no body to HEAD).
        return web.Response(body=b"0123456789", content_type="text/plain")

    routes = {"/empty": empty, "/not-modified": not_modified, "/item": item}
    async with aiohttp_backend(routes) as backend, backend_client() as client:
        for method, path, status in (("DELETE", "/empty", 204), ("GET", "/not-modified", 304),
                                     ("HEAD", "/item", 200), ("HEAD", "/item", 200)):
            answer = await client.send(request(method, backend.url + path))
            assert (answer.status, answer.body) == (status, b""), path
        head = await client.send(request("HEAD", backend.url + "/item"))
        assert head.headers["Content-Length"] == "10"
        assert (await client.send(request("GET", backend.url + "/item"))).body == b"0123456789"
    assert len(set(backend.ports)) == 1


async def test_interim_answers_are_skipped() -> None:
    async def early_hints(req: RawRequest) -> bytes:
        return b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok(b"final", "X-Final: yes")

    async with RawServer(early_hints) as server, backend_client() as client:
        for _ in range(2):
            answer = await client.send(request("GET", server.url + "/"))
            assert (answer.status, answer.reason, answer.body) == (200, "OK", b"final")
            assert answer.headers["X-Final"] == "yes" and "Link" not in answer.headers
    assert len({r.port for r in server.requests}) == 1


async def test_broken_answers() -> None:
    answers = {
        "/garbage": b"SMTP ready\r\n\r\n",
        "/short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc",
        "/bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "/bad-gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
        "/switch": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
    }

    async def answer(req: RawRequest) -> bytes:
        return answers[req.target]

    expected = {
        "/garbage": "backend sent an invalid HTTP response",
        "/short": "backend closed the connection without a complete answer",
        "/bad-chunk": "backend sent a malformed response body",
        "/bad-gzip": "backend sent a malformed response body",
        "/switch": "backend sent an invalid HTTP response",
    }
    async with RawServer(answer) as server, backend_client() as client:
        for path, message in expected.items():
            with pytest.raises(ToolFailure) as failure:
                await client.send(request("GET", server.url + path))
            assert failure.value.message == message, path


async def test_the_per_host_limit_holds_under_concurrency() -> None:
    async def slow(req: RawRequest) -> bytes:
        await asyncio.sleep(0.01)
        return ok(req.target.encode())

    async with RawServer(slow) as server, backend_client(max_connections_per_host=4) as client:
        answers = await asyncio.gather(*(client.send(request("GET", f"{server.url}/{i}")) for i in range(50)))
        assert [a.body for a in answers] == [f"/{i}".encode() for i in range(50)]
        assert server.most_open == 4
        assert len({r.port for r in server.requests}) == 4


async def test_a_timeout_closes_the_connection() -> None:
    hung_up = asyncio.Event()

    async def hang_first(req: RawRequest) -> bytes | None:
        if req.target == "/hang":
            with contextlib.suppress(ConnectionError):
                await req.reader.read()  # returns at EOF: only once the client hangs up
            hung_up.set()
            return None
        return ok()

    async with RawServer(hang_first) as server, backend_client(backend_timeout=0.3) as client:
        with pytest.raises(ToolFailure) as failure:
            await client.send(request("GET", server.url + "/hang"))
        assert failure.value.message == "backend did not answer within 0.3s"
        await asyncio.wait_for(hung_up.wait(), 2)
        assert (await client.send(request("GET", server.url + "/next"))).body == b"ok"
    assert server.requests[0].port != server.requests[1].port


async def test_waiting_for_a_free_connection_counts_against_the_deadline() -> None:
    release = asyncio.Event()

    async def hang(req: RawRequest) -> bytes:
        if req.target == "/hang":
            await release.wait()
        return ok(req.target.encode())

    async with RawServer(hang) as server:
        port = int(server.url.rsplit(":", 1)[1])
        # The pool itself, for requests of different deadlines on one connection slot.
        pool = http11.Pool(max_per_origin=1, connect_timeout=2.0, max_response_bytes=1000)

        def get(target: str, within: float) -> Awaitable[http11.Response]:
            return pool.request("http", "127.0.0.1", port, "GET", target, CIMultiDict(), None,
                                deadline=pool.time() + within)

        try:
            hung = asyncio.ensure_future(get("/hang", 5.0))
            await asyncio.sleep(0.05)
            with pytest.raises(http11.TimedOut):
                await get("/queued", 0.2)  # never got the connection
            release.set()
            assert (await hung).body == b"/hang"
            # The slot and the connection came back: calls go through again, on that connection.
            for _ in range(2):
                assert (await get("/after", 5.0)).body == b"/after"
        finally:
            release.set()
            await pool.close()
    assert [r.target for r in server.requests] == ["/hang", "/after", "/after"]
    assert len({r.port for r in server.requests}) == 1


async def test_unreachable_backends() -> None:
    async with backend_client(backend_connect_timeout=0.2) as client:
        with pytest.raises(ToolFailure, match=r"^backend unreachable: cannot resolve no-such-host\.invalid$"):
            await client.send(request("GET", "http://no-such-host.invalid/x"))
    # A listener whose accept queue is full: the kernel drops further SYNs, so connecting hangs.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            async with backend_client(backend_connect_timeout=0.2) as client:
                with pytest.raises(ToolFailure) as failure:
                    await client.send(request("GET", f"http://127.0.0.1:{port}/x"))
            assert failure.value.message == f"backend unreachable: no connection to 127.0.0.1:{port} within 0.2s"
        finally:
            for filler in fillers:
                filler.close()


async def test_tls_backends_are_verified(tmp_path: Path) -> None:
    cert_file, key_file = self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)

    async def hello(req: web.Request) -> web.Response:
        return web.Response(text=f"secure={req.secure}")

    async with aiohttp_backend({"/hello": hello}, ssl_context=server_context) as backend:
        async with backend_client(backend_ca_file=str(cert_file)) as client:
            for _ in range(2):
                answer: BackendResponse = await client.send(request("GET", backend.url + "/hello"))
                assert (answer.status, answer.body) == (200, b"secure=True")
            assert len(set(backend.ports)) == 1
        async with backend_client() as client:  # the system store alone does not know this certificate
            with pytest.raises(ToolFailure) as failure:
                await client.send(request("GET", backend.url + "/hello"))
            port = backend.url.rsplit(":", 1)[1]
            assert failure.value.message.startswith(
                f"backend unreachable: TLS certificate of 127.0.0.1:{port} not trusted: ")


def test_the_client_works_on_uvloop() -> None:
    """The service runs on uvloop, whose transports differ from asyncio's in small ways."""
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> list[int]:
        async def item(req: web.Request) -> web.Response:
            return web.Response(body=gzip.compress(b"u" * 100), headers={"Content-Encoding": "gzip"})

        async with aiohttp_backend({"/item": item}) as backend, backend_client() as client:
            answers = await asyncio.gather(*(client.send(request("GET", backend.url + "/item")) for _ in range(8)))
            assert all(a.body == b"u" * 100 for a in answers)
            head = await client.send(request("HEAD", backend.url + "/item"))
            assert head.body == b""
            return backend.ports

    # In a thread of its own: asyncio.Runner would otherwise unset this thread's event loop on exit.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        ports = thread.submit(uvloop.run, scenario()).result(timeout=30)
    assert len(ports) == 9 and len(set(ports)) <= 8
