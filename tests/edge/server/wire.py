"""Raw HTTP/1.1 over a socket, for tests of the edge's server itself: bytes in, parsed answers out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httptools

WAIT = 5.0


@dataclass
class Answer:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    complete: bool = False


class _Collector:
    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.current = Answer()
        self.parser: httptools.HttpResponseParser | None = None

    def on_message_begin(self) -> None:
        self.current = Answer()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current.headers[name.decode().lower()] = value.decode()

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        self.current.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.current.body += body

    def on_message_complete(self) -> None:
        self.current.complete = True
        self.answers.append(self.current)


class Wire:
    """One client connection; `answers(n)` reads until n complete responses arrived."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._collector = _Collector()
        self._parser = httptools.HttpResponseParser(self._collector)
        self._collector.parser = self._parser
        self.closed = False
        self.informational: list[int] = []

    @classmethod
    async def open(cls, port: int) -> Wire:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def _read_some(self) -> None:
        data = await asyncio.wait_for(self.reader.read(65536), WAIT)
        if not data:
            self.closed = True
            self._parser.feed_data(b"")
            return
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        # 1xx answers come before the real one; llhttp would take them for the response.
        while data.startswith(b"HTTP/1.1 1"):
            head, _, data = data.partition(b"\r\n\r\n")
            self.informational.append(int(head[9:12]))
        if data:
            self._parser.feed_data(data)

    async def answers(self, count: int = 1) -> list[Answer]:
        while len(self._collector.answers) < count:
            if self.closed:
                raise AssertionError(f"connection closed after {len(self._collector.answers)} answers")
            await self._read_some()
        return self._collector.answers[:count]

    async def answer(self) -> Answer:
        return (await self.answers(1))[0]

    async def interim(self) -> None:
        """Read until a 1xx answer arrived."""
        while not self.informational:
            await self._read_some()

    async def closed_by_server(self) -> bool:
        """True once the server closes the connection (read to EOF, within WAIT)."""
        while not self.closed:
            try:
                await self._read_some()
            except (ConnectionResetError, httptools.HttpParserError):
                self.closed = True
        return True

    def close(self) -> None:
        self.writer.close()
