"""Replies larger than one NATS message: compressed and, if still too large, sent in numbered
chunks that the requester puts back together (a server of hundreds of imported tools)."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterator

from mcpgw.contracts.errors import ErrorCode, McpgwError

CHUNK_HEADER = "Mcpgw-Chunk"
ENCODING_HEADER = "Mcpgw-Encoding"
# Room left in a NATS message for the headers of a chunk.
HEADER_ROOM = 512
MAX_REPLY_BYTES = 256 * 1024 * 1024
_THREAD_FROM = 4 * 1024 * 1024


async def packed(data: bytes, limit: int) -> Iterator[tuple[bytes, dict[str, str]]]:
    """The messages that carry `data` (larger than `limit`): compressed, chunked when needed."""
    # zlib releases the GIL: a reply of megabytes (a server of hundreds of tools takes ~1 s at
    # level 6) is compressed beside the event loop, which keeps answering meanwhile.
    small = zlib.compress(data, 6) if len(data) < _THREAD_FROM else await asyncio.to_thread(zlib.compress, data, 6)
    if len(small) <= limit:
        return iter([(small, {ENCODING_HEADER: "zlib"})])
    count = -(-len(small) // limit)
    return ((small[i * limit:(i + 1) * limit], {ENCODING_HEADER: "zlib", CHUNK_HEADER: f"{i}/{count}"})
            for i in range(count))


class Chunks:
    """The chunks of the replies on their way, by inbox."""

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
            raise McpgwError(ErrorCode.INTERNAL, "malformed chunked reply") from None
        parts = self.partial.setdefault(inbox, [None] * n)
        if len(parts) != n:
            raise McpgwError(ErrorCode.INTERNAL, "malformed chunked reply")
        parts[i] = data
        if any(p is None for p in parts):
            return None
        del self.partial[inbox]
        return b"".join(p for p in parts if p is not None)

    def drop(self, inbox: str) -> None:
        self.partial.pop(inbox, None)


def inflate(data: bytes, service: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_REPLY_BYTES)
    except zlib.error:
        raise McpgwError(ErrorCode.INTERNAL, f"malformed compressed reply from {service}") from None
    if inflater.unconsumed_tail:
        raise McpgwError(ErrorCode.INTERNAL, f"reply from {service} larger than {MAX_REPLY_BYTES} bytes")
    return out
