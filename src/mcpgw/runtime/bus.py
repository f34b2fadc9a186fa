"""The NATS glue: typed requests with timeouts, publishing, and the worker loop.

Every request has an explicit timeout; "no responders" and timeouts become `McpgwError`s with
stable codes. Workers handle each message in its own task (bounded), so one slow backend call
does not hold up the messages queued behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from opentelemetry import context as otel_context
from opentelemetry import trace

from mcpgw.contracts.errors import ErrorCode, ErrorReply, McpgwError
from mcpgw.contracts.subjects import Subjects
from mcpgw.runtime.codec import decoder, encode, reply_decoder
from mcpgw.runtime.tracing import extract_context, inject_headers

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mcpgw.bus")

R = TypeVar("R", bound=msgspec.Struct)
Q = TypeVar("Q", bound=msgspec.Struct)


class Bus:
    """A NATS connection plus the subject builder of this cluster."""

    def __init__(self, nc: NatsClient, subjects: Subjects, default_timeout: float = 5.0) -> None:
        self.nc = nc
        self.subjects = subjects
        self.default_timeout = default_timeout
        self._tasks: set[asyncio.Task[None]] = set()

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

    async def request(self, subject: str, message: msgspec.Struct, reply: type[R], *,
                      timeout: float | None = None, headers: dict[str, str] | None = None) -> R:
        """Send `message`, wait for one reply of type `reply`; raise `McpgwError` otherwise."""
        wait = self.default_timeout if timeout is None else timeout
        try:
            msg = await self.nc.request(subject, encode(message), timeout=wait,
                                        headers=inject_headers(headers))
        except NoRespondersError:
            raise McpgwError(ErrorCode.NO_RESPONDERS, f"no service is answering {_service_of(subject)}") from None
        except (TimeoutError, NatsTimeoutError):
            raise McpgwError(ErrorCode.TIMEOUT,
                             f"{_service_of(subject)} did not answer within {wait:g}s") from None
        try:
            answer = reply_decoder(reply).decode(msg.data)
        except msgspec.DecodeError as exc:
            raise McpgwError(ErrorCode.INTERNAL, f"malformed reply from {_service_of(subject)}: {exc}") from None
        if isinstance(answer, ErrorReply):
            raise answer.to_exception()
        return answer  # type: ignore[no-any-return]

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

        return await self.nc.subscribe(subject, cb=on_msg)

    async def serve(self, subject: str, kind: Any, handler: Callable[[Any], Awaitable[msgspec.Struct]], *,
                    queue: str = "", max_inflight: int = 1024, span_name: str | None = None) -> Subscription:
        """Answer requests on `subject`; each runs in its own task, at most `max_inflight` at once.

        The handler's `McpgwError` becomes an `ErrorReply`; any other exception becomes an
        internal error whose message does not leak the exception text.
        """
        dec = decoder(kind)
        limit = asyncio.Semaphore(max_inflight)
        name = span_name or subject

        async def handle(msg: Msg) -> None:
            token = otel_context.attach(extract_context(msg.headers))
            try:
                with tracer.start_as_current_span(name, kind=trace.SpanKind.SERVER):
                    try:
                        request = dec.decode(msg.data)
                        answer: msgspec.Struct = await handler(request)
                    except msgspec.DecodeError as exc:
                        answer = ErrorReply(code=ErrorCode.INVALID_PARAMETER, message=f"malformed request: {exc}")
                    except McpgwError as exc:
                        answer = exc.to_reply()
                    except Exception:
                        log.exception("handler for %s failed", msg.subject)
                        answer = ErrorReply(code=ErrorCode.INTERNAL, message="internal error")
                if msg.reply:
                    await self.nc.publish(msg.reply, encode(answer))
            except Exception:
                log.exception("could not answer on %s", msg.subject)
            finally:
                otel_context.detach(token)
                limit.release()

        async def on_msg(msg: Msg) -> None:
            await limit.acquire()
            task = asyncio.get_running_loop().create_task(handle(msg))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return await self.nc.subscribe(subject, queue=queue, cb=on_msg)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.default_timeout)
        try:
            await asyncio.wait_for(self.nc.drain(), timeout=self.default_timeout)
        except Exception:
            await self.nc.close()


def _service_of(subject: str) -> str:
    parts = subject.split(".")
    return parts[1] if len(parts) > 1 else subject
