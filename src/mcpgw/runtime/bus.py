"""The NATS glue: typed requests with timeouts, publishing, and the worker loop.

Every request has an explicit timeout; "no responders" and timeouts become `McpgwError`s with
stable codes. Workers handle each message in its own task (bounded), so one slow backend call
does not hold up the messages queued behind it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Iterator
from time import perf_counter
from typing import Any, TypeVar

import msgspec
import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from opentelemetry import trace
from prometheus_client.core import Metric

from mcpgw.contracts.errors import ErrorCode, ErrorReply, McpgwError
from mcpgw.contracts.subjects import Subjects
from mcpgw.runtime import bus_telemetry, tracing
from mcpgw.runtime.bus_events import EVENT_HEADER, Listener, expire
from mcpgw.runtime.bus_large import (
    CHUNK_HEADER,
    ENCODING_HEADER,
    HEADER_ROOM,
    LARGE_HEADER,
    PULL_HEADER,
    Chunks,
    Offers,
    inflate,
    send_large,
)
from mcpgw.runtime.bus_liveness import ALIVE_HEADER, Liveness, Lost
from mcpgw.runtime.bus_telemetry import OK, RequestTiming, operation_of
from mcpgw.runtime.codec import decoder, encode, reply_decoder
from mcpgw.runtime.tracing import inject_headers

log = logging.getLogger(__name__)
tracer = bus_telemetry.tracer

# Messages larger than one NATS message (a server with hundreds of imported tools, an upstream's
# megabytes of sampling request) travel compressed and, if still too large, in numbered chunks the
# receiver reassembles (`bus_large`); events ahead of a reply are `bus_events`'.
# Subjects whose request series are remembered (a dict hit per request); past this the memo starts
# over, so subjects with session ids in them cannot pile up.
_MAX_SUBJECTS = 4096

R = TypeVar("R", bound=msgspec.Struct)
Q = TypeVar("Q", bound=msgspec.Struct)


class Bus:
    """A NATS connection plus the subject builder of this cluster."""

    def __init__(self, nc: NatsClient, subjects: Subjects, default_timeout: float = 5.0) -> None:
        self.nc = nc
        self.subjects = subjects
        self.default_timeout = default_timeout
        self._tasks: set[asyncio.Task[None]] = set()
        # Our own reply multiplexer: one wildcard inbox subscription, a counter for tokens and a
        # timer per request. nats-py's request() spends a getrandom syscall, a NUID and an
        # asyncio.wait_for task on every call; on the hot path that was a measurable share.
        self._inbox = f"_INBOX.{secrets.token_hex(11)}."
        self._inbox_ready: asyncio.Future[None] | None = None
        self._pending: dict[str, asyncio.Future[tuple[bytes, dict[str, str] | None]]] = {}
        self._chunks = Chunks()
        # inbox -> what to do with the events that precede its reply (streaming requests only).
        self._listeners: dict[str, Listener] = {}
        self._offers = Offers(nc)
        # Liveness (`bus_liveness`): signs of life for the requests served here, and the watched
        # requests made here whose worker went quiet.
        self.liveness = Liveness(nc, self._pending)
        self._serving = self.liveness.serving
        self._watched = self.liveness.watched
        self._next_token = 0
        # Metrics (`bus_telemetry`): requests made by subject -> its operation's series, and served.
        self.requests = bus_telemetry.request_timings()
        self.served = bus_telemetry.served_timings()
        self._timing: dict[str, RequestTiming] = {}
        self._timing_by_operation: dict[str, RequestTiming] = {}
        # Timings and liveness read time.perf_counter: uvloop's loop.time() costs the same (77 against
        # 83 ns) but counts in whole milliseconds, coarser than the 0.5 ms a NATS hop takes.
        # Looked up once: on Python 3.11 every asyncio.get_running_loop() is a getpid() syscall,
        # 4 % of the edge's CPU samples when called per request (py-spy, make bench).
        self._loop = asyncio.get_running_loop()

    @property
    def inbox(self) -> str:
        """The prefix of every subject this connection's replies arrive on (`<inbox><token>`)."""
        return self._inbox

    @classmethod
    async def connect(cls, url: str, *, name: str, root: str, timeout: float = 5.0) -> Bus:
        async def on_error(exc: Exception) -> None:
            log.warning("nats: %s", exc)

        try:
            nc = await nats.connect(
                url,
                name=name,
                connect_timeout=timeout,
                # A worker keeps trying for as long as it runs; the first connect must succeed.
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                error_cb=on_error,
                allow_reconnect=True,
            )
        except Exception as exc:
            raise McpgwError(ErrorCode.NO_RESPONDERS, f"cannot connect to NATS at {url}: {exc}") from None
        return cls(nc, Subjects(root), timeout)

    async def sync(self) -> None:
        """Return once every subscription made so far is registered with the server.

        nats-py 2.16 can send flush's PING ahead of SUB commands still in its buffer, so one round
        trip proves nothing; a second one, sent after the first completed, does.
        """
        await self.nc.flush(timeout=math.ceil(self.default_timeout))
        await self.nc.flush(timeout=math.ceil(self.default_timeout))

    async def _open_inbox(self) -> None:
        if self._inbox_ready is None:
            self._inbox_ready = asyncio.get_running_loop().create_future()
            try:
                await self.nc.subscribe(self._inbox + "*", cb=self._on_reply)
                await self.sync()
            except BaseException as exc:
                self._inbox_ready.set_exception(exc)
                self._inbox_ready.exception()
                self._inbox_ready = None
                raise
            self._inbox_ready.set_result(None)
        else:
            await self._inbox_ready

    async def _on_reply(self, msg: Msg) -> None:
        headers = msg.headers
        if headers:
            if ALIVE_HEADER in headers:
                if msg.subject in self._watched:
                    self._watched[msg.subject] = perf_counter()
                return
            if EVENT_HEADER in headers:
                if msg.subject in self._watched:
                    self._watched[msg.subject] = perf_counter()
                listener = self._listeners.get(msg.subject)
                if listener is not None:
                    # A large event (`bus_large.packed`) is compressed: one more dict lookup for a
                    # small one (~20 ns, timeit); this path took 2.04 -> 2.08 µs a small event,
                    # best of 5 runs of 50k (uvloop; run to run noise on the 2-core box ±0.3 µs).
                    if ENCODING_HEADER in headers:
                        listener.large(msg.subject, headers, msg.data)
                    else:
                        listener.event(msg.data)
                return
            if PULL_HEADER in headers:
                self._offers.push(msg.subject, headers[PULL_HEADER], self._tasks)
                return
            if CHUNK_HEADER in headers:
                self._on_chunk(msg.subject, headers, msg.data)
                return
        waiter = self._pending.pop(msg.subject, None)
        if waiter is not None and not waiter.done():
            waiter.set_result((msg.data, headers))

    def _on_chunk(self, inbox: str, headers: dict[str, str], data: bytes) -> None:
        waiter = self._pending.get(inbox)
        if waiter is None or waiter.done():
            return
        try:
            whole = self._chunks.add(inbox, headers, data)
        except McpgwError as exc:
            waiter.set_exception(exc)
            return
        if whole is not None:
            del self._pending[inbox]
            waiter.set_result((whole, headers))

    async def request(self, subject: str, message: msgspec.Struct, reply: type[R], *,
                      timeout: float | None = None, headers: dict[str, str] | None = None,
                      on_event: Callable[[bytes], None] | None = None, watch: bool = False) -> R:
        """Send `message`, wait for one reply of type `reply`; raise `McpgwError` otherwise.

        With `on_event`, the responder may send events before its reply (`Emitter.emit`): each is
        handed to `on_event` as its encoded bytes, in order, and restarts the timeout (a long
        call that keeps reporting progress is alive).

        With `watch`, a worker that stops showing signs of life (it died, or NATS between us
        did) fails the request with `WORKER_LOST` within `lost_after` (+ a sweep), instead of
        leaving it to wait out `timeout`. Every `serve`d request sends them (`_sweep`).
        """
        wait = self.default_timeout if timeout is None else timeout
        if self._inbox_ready is None or not self._inbox_ready.done():
            await self._open_inbox()
        self._next_token += 1
        inbox = f"{self._inbox}{self._next_token:x}"
        loop = self._loop
        started = perf_counter()
        timing = self._timing.get(subject)
        if timing is None:
            timing = self._timing_of(subject)
        waiter: asyncio.Future[tuple[bytes, dict[str, str] | None]] = loop.create_future()
        self._pending[inbox] = waiter
        timer = loop.call_later(wait, expire, waiter)
        listener = None
        if on_event is not None:
            listener = self._listeners[inbox] = Listener(on_event, waiter, timer, wait)
        if watch:
            self._watched[inbox] = started
            if self.liveness.sweeper is None:
                self.liveness.start()
        # Tracing off (the usual case): one flag read, no span and no context switch.
        span = bus_telemetry.producer(subject, timing.operation) if tracing.enabled() else None
        try:
            data = encode(message)
            if len(data) <= self.nc.max_payload - HEADER_ROOM:
                await self.nc.publish(subject, data, reply=inbox, headers=inject_headers(headers))
            else:
                await self._offers.offer(subject, data, inbox, inject_headers(headers))
            data, got = await waiter
            if got:
                if not data and got.get("Status") == "503":
                    raise McpgwError(ErrorCode.NO_RESPONDERS, f"no service is answering {_service_of(subject)}")
                if got.get(ENCODING_HEADER) == "zlib":
                    data = inflate(data, f"reply from {_service_of(subject)}")
            try:
                answer = reply_decoder(reply).decode(data)
            except msgspec.DecodeError as exc:
                raise McpgwError(ErrorCode.INTERNAL,
                                 f"malformed reply from {_service_of(subject)}: {exc}") from None
            if isinstance(answer, ErrorReply):
                raise answer.to_exception()
        except TimeoutError:
            timing.failed(ErrorCode.TIMEOUT.value, perf_counter() - started, span)
            raise McpgwError(ErrorCode.TIMEOUT, f"{_service_of(subject)} did not answer within {wait:g}s") from None
        except Lost:
            timing.failed(ErrorCode.WORKER_LOST.value, perf_counter() - started, span)
            raise McpgwError(ErrorCode.WORKER_LOST,
                             f"lost contact with {_service_of(subject)} while it had the request") from None
        except McpgwError as exc:
            timing.failed(exc.code.value, perf_counter() - started, span)
            raise
        except BaseException:
            if span is not None:
                tracing.end(span)
            raise
        finally:
            if listener is not None:
                timer = listener.timer
                del self._listeners[inbox]
            timer.cancel()
            self._pending.pop(inbox, None)
            if self._chunks.partial:  # a reply in chunks is rare: no call for the others
                self._chunks.drop(inbox)
            if self._offers.offered:  # so is a large request
                self._offers.offered.pop(inbox, None)
            if watch:
                self._watched.pop(inbox, None)
        timing.ok.observe(perf_counter() - started)
        if span is not None:
            tracing.end(span)
        return answer  # type: ignore[no-any-return]

    def _timing_of(self, subject: str) -> RequestTiming:
        """The series of requests to `subject`, by its operation (`toolexec.call`, not a server id)."""
        operation = operation_of(subject)
        found = self._timing_by_operation.get(operation)
        if found is None:
            found = self._timing_by_operation[operation] = RequestTiming(operation, self.requests)
        if len(self._timing) >= _MAX_SUBJECTS:  # subjects with session ids must not pile up
            self._timing.clear()
        self._timing[subject] = found
        return found

    async def _reply(self, inbox: str, data: bytes) -> None:
        limit = int(self.nc.max_payload) - HEADER_ROOM
        if len(data) <= limit:
            await self.nc.publish(inbox, data)
            return
        await send_large(self.nc, inbox, data)

    async def _pull(self, reply: str) -> bytes:
        """The body of a large request (`bus_large.Offers`), fetched from its requester on `reply`."""
        if not reply:
            raise McpgwError(ErrorCode.INVALID_PARAMETER, "a large request needs a reply subject")
        if self._inbox_ready is None or not self._inbox_ready.done():
            await self._open_inbox()
        self._next_token += 1
        inbox = f"{self._inbox}{self._next_token:x}"
        waiter: asyncio.Future[tuple[bytes, dict[str, str] | None]] = self._loop.create_future()
        self._pending[inbox] = waiter
        timer = self._loop.call_later(self.default_timeout, expire, waiter)
        try:
            await self.nc.publish(reply, b"", headers={PULL_HEADER: inbox})
            data, headers = await waiter
        except TimeoutError:
            raise McpgwError(ErrorCode.TIMEOUT, f"the body of a large request did not arrive within "
                                                f"{self.default_timeout:g}s") from None
        finally:
            timer.cancel()
            self._pending.pop(inbox, None)
            self._chunks.drop(inbox)
        return inflate(data, "request") if headers and headers.get(ENCODING_HEADER) == "zlib" else data

    async def publish(self, subject: str, message: msgspec.Struct) -> None:
        await self.nc.publish(subject, encode(message), headers=inject_headers())

    async def subscribe(self, subject: str, kind: type[Q], handler: Callable[[Q], Awaitable[None]]) -> Subscription:
        """Subscribe to events of one type; a malformed event is logged and dropped."""
        dec = decoder(kind)

        async def on_msg(msg: Msg) -> None:
            try:
                event = dec.decode(msg.data)
            except msgspec.DecodeError as exc:
                log.warning("dropping malformed message on %s: %s", msg.subject, exc)
                return
            try:
                await handler(event)
            except Exception:
                log.exception("event handler for %s failed", msg.subject)

        sub = await self.nc.subscribe(subject, cb=on_msg)
        await self.sync()
        return sub

    async def emit(self, inbox: str, message: msgspec.Struct) -> None:
        """Send an event ahead of the reply to a request made with `on_event`."""
        await self.emit_raw(inbox, encode(message))

    async def emit_raw(self, inbox: str, data: bytes) -> None:
        """`emit` of an event already encoded (one passed on from another responder).

        An event larger than one NATS message goes as a large reply does (`bus_large`); the
        requester's `Listener` reassembles it. The size check costs a small event ~80 ns (timeit):
        2.96 -> 3.10 µs a call, best of 5 runs of 50k (uvloop; noise between runs ±0.3 µs).
        """
        if len(data) <= self.nc.max_payload - HEADER_ROOM:
            await self.nc.publish(inbox, data, headers={EVENT_HEADER: "1"})
        else:
            await send_large(self.nc, inbox, data, {EVENT_HEADER: "1"})

    async def serve(self, subject: str, kind: Any, handler: Callable[[Any], Awaitable[msgspec.Struct]], *,
                    queue: str = "", max_inflight: int = 1024, span_name: str | None = None) -> Subscription:
        """Answer requests on `subject`; each runs in its own task, at most `max_inflight` at once.

        The handler's `McpgwError` becomes an `ErrorReply`; any other exception becomes an
        internal error whose message does not leak the exception text.
        """
        return await self._serve(subject, kind, handler, False, queue, max_inflight, span_name)

    async def serve_raw(self, subject: str, kind: Any,
                        handler: Callable[[Any, Msg], Awaitable[msgspec.Struct | None]], *,
                        queue: str = "", max_inflight: int = 1024, span_name: str | None = None) -> Subscription:
        """`serve`, with the NATS message given to the handler too: it may `emit` events to
        `msg.reply` before answering, or return None when it passed the message on to another
        responder (`forward`), which then answers."""
        return await self._serve(subject, kind, handler, True, queue, max_inflight, span_name)

    async def _serve(self, subject: str, kind: Any, handler: Callable[..., Awaitable[msgspec.Struct | None]],
                     with_msg: bool, queue: str, max_inflight: int, span_name: str | None) -> Subscription:
        # The handler is called directly either way: a wrapper coroutine per request was measurable
        # on toolexec's hot path.
        dec = decoder(kind)
        limit = asyncio.Semaphore(max_inflight)
        operation = span_name or operation_of(subject)
        name = f"process {operation}"
        attributes = bus_telemetry.consumer_attributes(subject, queue)
        served, served_ok, loop = self.served, self.served.series(operation, OK), self._loop

        async def handle(msg: Msg, started: float) -> None:
            try:
                with tracing.span(tracer, name, trace.SpanKind.CONSUMER, attributes=attributes,
                                  parent=msg.headers or {}) as span:
                    try:
                        headers = msg.headers
                        # A large request is a stub whose body the requester holds (`Offers`):
                        # 20 ns (no headers) to 32 ns (trace headers) a small request (timeit).
                        request = dec.decode(msg.data if not headers or LARGE_HEADER not in headers
                                             else await self._pull(msg.reply))
                        answer: msgspec.Struct | None = await (handler(request, msg) if with_msg
                                                               else handler(request))
                    except msgspec.DecodeError as exc:
                        answer = ErrorReply(code=ErrorCode.INVALID_PARAMETER, message=f"malformed request: {exc}")
                    except McpgwError as exc:
                        answer = exc.to_reply()
                    except Exception:
                        log.exception("handler for %s failed", msg.subject)
                        answer = ErrorReply(code=ErrorCode.INTERNAL, message="internal error")
                    if isinstance(answer, ErrorReply):
                        served.observe(perf_counter() - started, operation, answer.code.value)
                        tracing.failed(span, answer.code.value, answer.message)
                    else:
                        served_ok.observe(perf_counter() - started)
                if msg.reply and answer is not None:
                    await self._reply(msg.reply, encode(answer))
            except Exception:
                log.exception("could not answer on %s", msg.subject)
            finally:
                limit.release()
                if msg.reply:
                    serving.pop(msg.reply, None)

        serving = self._serving

        async def on_msg(msg: Msg) -> None:
            # One clock read for both the liveness record and the served timing (which so counts
            # from taking the message, a wait for `limit` included).
            started = perf_counter()
            reply = msg.reply
            if reply:  # from here on the sweeper tells the requester that the request is alive
                serving[reply] = started
            await limit.acquire()
            task = loop.create_task(handle(msg, started))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self.liveness.start()
        sub = await self.nc.subscribe(subject, queue=queue, cb=on_msg)
        await self.sync()
        return sub

    def metrics(self) -> Iterator[Metric]:
        """Requests made and served (for the service's `/metrics`)."""
        return bus_telemetry.families(self.requests, self.served, len(self._serving))

    async def forward(self, subject: str, msg: Msg) -> None:
        """Pass a request on to another subject; its responder answers the original requester."""
        await self.nc.publish(subject, msg.data, reply=msg.reply, headers=msg.headers)

    async def close(self) -> None:
        self.liveness.stop()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.default_timeout)
        try:
            await asyncio.wait_for(self.nc.drain(), timeout=self.default_timeout)
        except Exception:
            await self.nc.close()


def _service_of(subject: str) -> str:
    parts = subject.split(".")
    return parts[1] if len(parts) > 1 else subject
