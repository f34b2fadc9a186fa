"""Reading a `text/event-stream` body: events as (event type, data), per the WHATWG rules MCP uses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from mcpgw import untrusted


class EventRefused(Exception):
    """An event refused before anything decodes it; the message says why ("larger than …")."""


class Event:
    __slots__ = ("data", "id", "kind", "retry")

    def __init__(self, kind: str, data: str, event_id: str | None, retry: int | None) -> None:
        self.kind = kind
        self.data = data
        self.id = event_id
        self.retry = retry


async def events(content: aiohttp.StreamReader, limit: int) -> AsyncIterator[tuple[str, str]]:
    """Yield each complete event's type (default `message`) and data; comments are skipped."""
    async for event in full_events(content, limit):
        if event.data:
            yield event.kind, event.data


async def full_events(content: aiohttp.StreamReader, limit: int) -> AsyncIterator[Event]:
    """Yield each event with its id and retry (a resumable stream primes with an id and no data).

    Lines may end in CRLF, LF or CR; `data:` lines join with LF; an event whose data would pass
    `limit` bytes raises EventRefused rather than growing without bound, and so does a message
    nested deeper than anything after this may decode (`untrusted.MAX_DEPTH`).
    """
    event_id: str | None = None
    retry: int | None = None
    kind = ""
    data: list[str] = []
    size = 0
    buffer = b""
    while True:
        chunk = await content.readany()
        if not chunk:
            return
        buffer += chunk
        while True:
            cut = _line_end(buffer)
            if cut is None:
                if len(buffer) > limit:
                    raise EventRefused(f"larger than {limit} bytes")
                break
            end, after = cut
            line = buffer[:end].decode("utf-8", "replace")
            buffer = buffer[after:]
            if not line:
                if data or event_id is not None or retry is not None:
                    text = "\n".join(data)
                    if kind in ("", "message"):
                        _check_depth(text)
                    yield Event(kind or "message", text, event_id, retry)
                kind, data, size, event_id, retry = "", [], 0, None, None
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "data":
                size += len(value)
                if size > limit:
                    raise EventRefused(f"larger than {limit} bytes")
                data.append(value)
            elif field == "event":
                kind = value
            elif field == "id" and "\0" not in value:
                event_id = value
            elif field == "retry" and value.isdigit():
                retry = int(value)


def _check_depth(text: str) -> None:
    # Counted on the text first: nearly every event has fewer brackets than the limit.
    if text.count("[") + text.count("{") > untrusted.MAX_DEPTH:
        try:
            untrusted.check_json(text.encode())
        except untrusted.TooDeep as exc:
            raise EventRefused(str(exc)) from None


def _line_end(buffer: bytes) -> tuple[int, int] | None:
    """(end of the first line, start of the next) or None while no line is complete."""
    lf = buffer.find(b"\n")
    cr = buffer.find(b"\r")
    if cr == -1 and lf == -1:
        return None
    if cr != -1 and (lf == -1 or cr < lf):
        if cr + 1 == len(buffer):
            return None  # CR at the end: a following LF may still belong to it
        return cr, cr + 2 if buffer[cr + 1:cr + 2] == b"\n" else cr + 1
    return lf, lf + 1
