"""Messages larger than one NATS message: compressed and, if still too large, sent in numbered
chunks that the receiver puts back together. The one home of that for every direction:

- replies (a server of hundreds of imported tools): `Bus._reply`, reassembled by `Bus.request`;
- events ahead of a reply (an upstream's megabytes of log or sampling request): `Bus.emit_raw`,
  reassembled by the request's `bus_events.Listener` before its `on_event` sees them;
- requests (a client's megabytes of sampling answer): a request goes to a queue group, where
  chunks would scatter over the workers, so `Bus.request` publishes only a stub (`LARGE_HEADER`),
  and the worker that takes it pulls the body (`PULL_HEADER`, naming an inbox of its own) from
  the requester, which sends it there as it would a reply."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterator

from nats.aio.client import Client as NatsClient

from mcpgw.contracts.errors import ErrorCode, McpgwError

CHUNK_HEADER = "Mcpgw-Chunk"
ENCODING_HEADER = "Mcpgw-Encoding"
# Room left in a NATS message for the headers of a chunk.
HEADER_ROOM = 512
# A request whose body waits at its requester (the value is its size); the worker asks for it by
# sending PULL_HEADER (the value is where to send it) to the request's reply subject.
LARGE_HEADER = "Mcpgw-Large"
PULL_HEADER = "Mcpgw-Pull"
MAX_REPLY_BYTES = 256 * 1024 * 1024
_THREAD_FROM = 4 * 1024 * 1024


async def packed(data: bytes, limit: int, extra: dict[str, str] | None = None,
                 ) -> Iterator[tuple[bytes, dict[str, str]]]:
    """The messages that carry `data` (larger than `limit`): compressed, chunked when needed;
    each with the headers `extra` too (an event's mark)."""
    # zlib releases the GIL: a reply of megabytes (a server of hundreds of tools takes ~1 s at
    # level 6) is compressed beside the event loop, which keeps answering meanwhile.
    small = zlib.compress(data, 6) if len(data) < _THREAD_FROM else await asyncio.to_thread(zlib.compress, data, 6)
    if len(small) <= limit:
        return iter([(small, {**(extra or {}), ENCODING_HEADER: "zlib"})])
    count = -(-len(small) // limit)
    return ((small[i * limit:(i + 1) * limit], {**(extra or {}), ENCODING_HEADER: "zlib", CHUNK_HEADER: f"{i}/{count}"})
            for i in range(count))


async def send_large(nc: NatsClient, subject: str, data: bytes, extra: dict[str, str] | None = None) -> None:
    """`data` (too large for one message) to `subject` in as many as it takes, in order."""
    for part, headers in await packed(data, nc.max_payload - HEADER_ROOM, extra):
        await nc.publish(subject, part, headers=headers)


class Offers:
    """The bodies of the large requests made here, by inbox, until their worker pulls them."""

    def __init__(self, nc: NatsClient) -> None:
        self.nc = nc
        # Public so that a request's clean-up can skip the pop while it is empty (nearly always).
        self.offered: dict[str, bytes] = {}

    async def offer(self, subject: str, data: bytes, inbox: str, headers: dict[str, str] | None) -> None:
        """Send a request too large for one message as a stub (`LARGE_HEADER`) replied to on `inbox`."""
        self.offered[inbox] = data
        await self.nc.publish(subject, b"", reply=inbox, headers={**(headers or {}), LARGE_HEADER: str(len(data))})

    def push(self, inbox: str, to: str, tasks: set[asyncio.Task[None]]) -> None:
        """A worker asked (`PULL_HEADER`) for the body of the request made on `inbox`: send it to `to`."""
        data = self.offered.get(inbox)
        if data is None:  # answered or given up meanwhile
            return
        task = asyncio.get_running_loop().create_task(send_large(self.nc, to, data))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


class Chunks:
    """The chunks of the messages on their way, by inbox (or by request, for its events)."""

    def __init__(self) -> None:
        # Public so that a request's clean-up can skip the drop while it is empty (nearly always):
        # a truth test instead of a method call.
        self.partial: dict[str, list[bytes | None]] = {}

    def add(self, inbox: str, headers: dict[str, str], data: bytes) -> bytes | None:
        """The whole reply once its last chunk arrived, None before; McpgwError when malformed."""
        try:
            index, _, count = headers[CHUNK_HEADER].partition("/")
            i, n = int(index), int(count)
            if not 0 <= i < n or n * len(data) > 2 * MAX_REPLY_BYTES:
                raise ValueError(headers[CHUNK_HEADER])
        except ValueError:
            raise McpgwError(ErrorCode.INTERNAL, "malformed chunked message") from None
        parts = self.partial.setdefault(inbox, [None] * n)
        if len(parts) != n:
            raise McpgwError(ErrorCode.INTERNAL, "malformed chunked message")
        parts[i] = data
        if any(p is None for p in parts):
            return None
        del self.partial[inbox]
        return b"".join(p for p in parts if p is not None)

    def drop(self, inbox: str) -> None:
        self.partial.pop(inbox, None)


def inflate(data: bytes, what: str) -> bytes:
    """`data` decompressed; `what` names it in the error (`reply from toolexec`, `event from hosting`)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_REPLY_BYTES)
    except zlib.error:
        raise McpgwError(ErrorCode.INTERNAL, f"malformed compressed {what}") from None
    if inflater.unconsumed_tail:
        raise McpgwError(ErrorCode.INTERNAL, f"{what} larger than {MAX_REPLY_BYTES} bytes")
    return out
