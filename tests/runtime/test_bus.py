from __future__ import annotations

import asyncio
import os

import msgspec
import pytest

from mcpgw.contracts import ErrorCode, McpgwError
from mcpgw.runtime.bus import Bus


class Ping(msgspec.Struct, tag="test.ping", tag_field="kind"):
    n: int


class Pong(msgspec.Struct, tag="test.pong", tag_field="kind"):
    n: int


async def test_request_reply_runs_handlers_concurrently(nats_url: str, root: str) -> None:
    bus = await Bus.connect(nats_url, name="t", root=root)
    gate = asyncio.Event()
    seen: list[int] = []

    async def handler(req: Ping) -> Pong:
        seen.append(req.n)
        if req.n == 0:
            await gate.wait()  # the first request blocks until the second is answered
        return Pong(n=req.n * 2)

    await bus.serve(f"{root}.svc", Ping, handler, queue="q")
    first = asyncio.ensure_future(bus.request(f"{root}.svc", Ping(n=0), Pong, timeout=5))
    second = await bus.request(f"{root}.svc", Ping(n=21), Pong, timeout=5)
    assert second.n == 42
    gate.set()
    assert (await first).n == 0
    await bus.close()


async def test_errors_map_to_stable_codes(nats_url: str, root: str) -> None:
    bus = await Bus.connect(nats_url, name="t", root=root)
    with pytest.raises(McpgwError) as nobody:
        await bus.request(f"{root}.nobody", Ping(n=1), Pong, timeout=1)
    assert nobody.value.code is ErrorCode.NO_RESPONDERS

    async def failing(req: Ping) -> Pong:
        if req.n == 1:
            raise McpgwError(ErrorCode.NOT_FOUND, "no such thing")
        raise RuntimeError("secret detail")

    await bus.serve(f"{root}.fail", Ping, failing)
    with pytest.raises(McpgwError) as known:
        await bus.request(f"{root}.fail", Ping(n=1), Pong)
    assert (known.value.code, known.value.message) == (ErrorCode.NOT_FOUND, "no such thing")
    with pytest.raises(McpgwError) as unknown:
        await bus.request(f"{root}.fail", Ping(n=2), Pong)
    assert unknown.value.code is ErrorCode.INTERNAL
    assert "secret" not in unknown.value.message

    never = asyncio.Event()

    async def slow(req: Ping) -> Pong:
        await never.wait()
        return Pong(n=0)

    await bus.serve(f"{root}.slow", Ping, slow)
    with pytest.raises(McpgwError) as late:
        await bus.request(f"{root}.slow", Ping(n=1), Pong, timeout=0.2)
    assert late.value.code is ErrorCode.TIMEOUT
    never.set()
    await bus.close()


class Blob(msgspec.Struct, tag="test.blob", tag_field="kind"):
    text: str


async def test_replies_larger_than_a_nats_message_arrive_whole(nats_url: str, root: str) -> None:
    bus = await Bus.connect(nats_url, name="t", root=root)
    limit = bus.nc.max_payload
    compressible = "tools " * (3 * limit // 6)  # fits once compressed
    incompressible = os.urandom(3 * limit // 2).hex()  # needs several chunks even compressed

    async def handler(req: Ping) -> Blob:
        return Blob(text=compressible if req.n == 1 else incompressible)

    await bus.serve(f"{root}.big", Ping, handler)
    assert (await bus.request(f"{root}.big", Ping(n=1), Blob)).text == compressible
    assert (await bus.request(f"{root}.big", Ping(n=2), Blob)).text == incompressible
    # and the inbox still answers small requests normally afterwards
    assert len((await bus.request(f"{root}.big", Ping(n=1), Blob)).text) == len(compressible)
    await bus.close()


async def test_a_watched_request_outlives_its_timeout_of_silence_while_the_worker_is_alive(
        nats_url: str, root: str) -> None:
    worker = await Bus.connect(nats_url, name="worker", root=root)
    requester = await Bus.connect(nats_url, name="requester", root=root)
    worker.liveness.alive_after, requester.liveness.lost_after = 0.2, 0.6
    release = asyncio.Event()

    async def slow(req: Ping) -> Pong:
        await release.wait()
        return Pong(n=req.n)

    await worker.serve(f"{root}.slow", Ping, slow)
    watched = asyncio.ensure_future(requester.request(f"{root}.slow", Ping(n=7), Pong, timeout=10, watch=True))
    unwatched = asyncio.ensure_future(requester.request(f"{root}.slow", Ping(n=8), Pong, timeout=10))
    # Still waiting well past lost_after: the worker's signs of life keep the watched request
    # alive, and neither request takes a sign of life for its reply.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(asyncio.gather(watched, unwatched)), 1.5)
    release.set()
    assert (await watched).n == 7 and (await unwatched).n == 8
    await requester.close()
    await worker.close()


async def test_a_watched_request_whose_worker_vanishes_fails_fast_as_lost(nats_url: str, root: str) -> None:
    worker = await Bus.connect(nats_url, name="worker", root=root)
    requester = await Bus.connect(nats_url, name="requester", root=root)
    worker.liveness.alive_after, requester.liveness.lost_after = 0.2, 0.6
    taken = asyncio.Event()

    async def stuck(req: Ping) -> Pong:
        taken.set()
        await asyncio.Event().wait()
        return Pong(n=0)

    await worker.serve(f"{root}.stuck", Ping, stuck)
    call = asyncio.ensure_future(requester.request(f"{root}.stuck", Ping(n=1), Pong, timeout=30, watch=True))
    await taken.wait()
    loop = asyncio.get_running_loop()
    gone = loop.time()
    await worker.nc.close()  # its connection drops, as a killed process's does
    with pytest.raises(McpgwError) as lost:
        await call
    assert lost.value.code is ErrorCode.WORKER_LOST
    assert loop.time() - gone < 0.6 + 0.6  # lost_after plus a sweep or two, not the 30 s timeout
    assert "lost contact" in lost.value.message
    await requester.close()


def test_request_timings_are_finer_than_uvloops_millisecond_clock(nats_url: str, root: str) -> None:
    """The services run on uvloop, whose loop.time() counts whole milliseconds; a NATS hop takes
    less, so its histograms read a finer clock (a sum of whole milliseconds would show it)."""
    import uvloop

    async def main() -> tuple[float, float]:
        bus = await Bus.connect(nats_url, name="t", root=root)

        async def echo(req: Ping) -> Pong:
            return Pong(n=req.n)

        subject = f"{root}.echo"
        await bus.serve(subject, Ping, echo)
        for n in range(20):
            await bus.request(subject, Ping(n=n), Pong, timeout=5)
        made, served = bus.requests.series(subject, "ok"), bus.served.series(subject, "ok")
        assert made.count == served.count == 20
        await bus.close()
        return made.total, served.total

    for total in uvloop.run(main()):
        assert abs(total * 1000 - round(total * 1000)) > 1e-6, total
