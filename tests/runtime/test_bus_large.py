"""Events and requests larger than one NATS message (replies: tests/runtime/test_bus.py)."""

from __future__ import annotations

import asyncio
import os

import msgspec
import pytest
from nats.aio.msg import Msg

from mcpgw.contracts import ErrorCode, ErrorReply, McpgwError
from mcpgw.runtime.bus import Bus
from mcpgw.runtime.bus_events import EVENT_HEADER
from mcpgw.runtime.bus_large import CHUNK_HEADER, ENCODING_HEADER, LARGE_HEADER, PULL_HEADER
from mcpgw.runtime.codec import encode


class Blob(msgspec.Struct, tag="test.blob", tag_field="kind"):
    text: str


class Size(msgspec.Struct, tag="test.size", tag_field="kind"):
    n: int


def _texts(limit: int) -> list[str]:
    """Small, compressible past the limit (one compressed message), incompressible (chunks)."""
    return ["small", "tools " * (3 * limit // 6), os.urandom(3 * limit // 2).hex()]


async def test_events_larger_than_a_nats_message_reach_on_event_whole_and_in_order(nats_url: str,
                                                                                   root: str) -> None:
    worker = await Bus.connect(nats_url, name="worker", root=root)
    requester = await Bus.connect(nats_url, name="requester", root=root)
    texts = _texts(worker.nc.max_payload)

    async def handler(req: Blob, msg: Msg) -> Blob:
        for text in texts:
            await worker.emit(msg.reply, Blob(text=text))
        await worker.emit_raw(msg.reply, encode(Blob(text="last")))
        return Blob(text="done")

    await worker.serve_raw(f"{root}.stream", Blob, handler)
    seen: list[bytes] = []
    answer = await requester.request(f"{root}.stream", Blob(text=""), Blob, on_event=seen.append, timeout=10)
    assert answer.text == "done"
    assert [msgspec.json.decode(data, type=Blob).text for data in seen] == [*texts, "last"]
    assert not requester._chunks.partial and not requester._listeners
    await requester.close()
    await worker.close()


async def test_requests_larger_than_a_nats_message_reach_a_queue_worker_whole(nats_url: str, root: str) -> None:
    requester = await Bus.connect(nats_url, name="requester", root=root)
    workers = [await Bus.connect(nats_url, name=f"worker{i}", root=root) for i in range(2)]

    async def handler(req: Blob) -> Size:
        return Size(n=len(req.text))

    for worker in workers:  # a queue group: a request's chunks could not have gone to one worker
        await worker.serve(f"{root}.size", Blob, handler, queue="q")
    for text in _texts(requester.nc.max_payload) * 2:
        assert (await requester.request(f"{root}.size", Blob(text=text), Size, timeout=10)).n == len(text)
    assert not requester._offers.offered  # nothing kept once answered
    for bus in (requester, *workers):
        await bus.close()


async def test_a_large_request_that_nobody_takes_fails_as_no_responders(nats_url: str, root: str) -> None:
    requester = await Bus.connect(nats_url, name="requester", root=root)
    with pytest.raises(McpgwError) as nobody:
        await requester.request(f"{root}.nobody", Blob(text="x" * 2 * requester.nc.max_payload), Size, timeout=2)
    assert nobody.value.code is ErrorCode.NO_RESPONDERS
    assert not requester._offers.offered
    await requester.close()


async def test_a_large_request_whose_body_never_comes_is_answered_with_a_timeout(nats_url: str, root: str) -> None:
    """A stub whose requester does not send the body (it went away): the worker answers, within its
    own timeout, an error saying so rather than waiting forever."""
    worker = await Bus.connect(nats_url, name="worker", root=root, timeout=0.3)
    silent = await Bus.connect(nats_url, name="silent", root=root)
    called = asyncio.Event()

    async def handler(req: Blob) -> Size:
        called.set()
        return Size(n=0)

    await worker.serve(f"{root}.size", Blob, handler)
    pulls: list[dict[str, str]] = []
    inbox = silent.nc.new_inbox()
    answered: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def on_reply(msg: Msg) -> None:
        if msg.headers and PULL_HEADER in msg.headers:
            pulls.append(msg.headers)  # and never answered
        elif not answered.done():
            answered.set_result(msg.data)

    await silent.nc.subscribe(inbox, cb=on_reply)
    await silent.nc.publish(f"{root}.size", b"", reply=inbox, headers={LARGE_HEADER: "5000000"})
    error = msgspec.json.decode(await asyncio.wait_for(answered, 5), type=ErrorReply)
    assert error.code is ErrorCode.TIMEOUT and "large request" in error.message
    assert len(pulls) == 1 and not called.is_set()
    await silent.close()
    await worker.close()


async def test_a_malformed_chunked_event_fails_the_request(nats_url: str, root: str) -> None:
    worker = await Bus.connect(nats_url, name="worker", root=root)
    requester = await Bus.connect(nats_url, name="requester", root=root)

    async def handler(req: Blob, msg: Msg) -> Blob | None:
        await worker.nc.publish(msg.reply, b"junk", headers={EVENT_HEADER: "1", ENCODING_HEADER: "zlib",
                                                             CHUNK_HEADER: "0/1"})
        return None  # no reply: the malformed event must end the request

    await worker.serve_raw(f"{root}.bad", Blob, handler)
    with pytest.raises(McpgwError) as bad:
        await requester.request(f"{root}.bad", Blob(text=""), Blob, on_event=lambda data: None, timeout=10)
    assert bad.value.code is ErrorCode.INTERNAL and "malformed compressed event" in bad.value.message
    await requester.close()
    await worker.close()
