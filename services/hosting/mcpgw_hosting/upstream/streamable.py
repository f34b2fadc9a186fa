"""An upstream session over Streamable HTTP: POST each message, read a JSON or SSE answer.

Any hosting replica can continue a session: all it needs is the upstream's session id (kept in
Redis) and the address the session was opened on. What arrives on a request's SSE stream before
its response (progress, logging, server-to-client requests) goes to that request's listener.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
import msgspec

from mcpgw import untrusted
from mcpgw.jsonrpc import Message
from mcpgw_hosting.upstream.errors import SessionGone, Unreachable, UpstreamError
from mcpgw_hosting.upstream.sse import EventRefused, events, full_events

log = logging.getLogger(__name__)

OnMessage = Callable[[bytes], Awaitable[None]]


async def ignore(_: bytes) -> None:
    """An `OnMessage` for what nobody waits for (a probe's, a notification's)."""


# Told when the upstream closed a request's stream to be polled (its `retry` hint, ms).
OnPause = Callable[[int], Awaitable[None]]
_message = msgspec.json.Decoder(Message)
EXCERPT = 300
# A request's stream the upstream closed before answering is resumed (GET with Last-Event-ID) at
# most this many times in a row without progress, waiting what the upstream asked (`retry`),
# capped at MAX_RETRY_DELAY.
MAX_RESUMES = 5
MAX_RETRY_DELAY = 5.0
# How long a request's stream may stay open after its response before its connection is dropped.
DRAIN_TIMEOUT = 5.0


def id_key(request_id: object) -> str:
    """Ids compare as JSON: 1 and "1" are different requests."""
    return msgspec.json.encode(request_id).decode()


class StreamableUpstream:
    transport = "StreamableHTTP"

    def __init__(self, http: aiohttp.ClientSession, url: str, headers: dict[str, str], limit: int) -> None:
        self._http = http
        self.url = url
        self._headers = headers
        self._limit = limit
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self._stream: asyncio.Task[None] | None = None
        # The HTTP status of the last answer (a 2026-07-28 error's status is part of it).
        self.status = 0

    def _request_headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {**self._headers, **extra} if extra else dict(self._headers)
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    async def post(self, body: bytes, request_id: int | str | None, on_message: OnMessage,
                   extra_headers: dict[str, str] | None = None, on_pause: OnPause | None = None) -> bytes | None:
        """Send one message; for a request, return its response (bytes), else None."""
        headers = self._request_headers(extra_headers)
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json, text/event-stream"
        resp: aiohttp.ClientResponse | None = None
        try:
            resp = await self._http.post(self.url, data=body, headers=headers, allow_redirects=False)
            self.status = resp.status
            if resp.status == 404 and self.session_id:
                raise SessionGone()
            sid = resp.headers.get("Mcp-Session-Id")
            if sid and not self.session_id:
                self.session_id = sid
            if resp.status == 202 or request_id is None:
                if resp.status >= 400:
                    raise UpstreamError(f"upstream answered HTTP {resp.status}{await _excerpt(resp)}")
                return None
            kind = resp.content_type
            if resp.status >= 400:
                # A JSON-RPC error for our request is the upstream's answer, HTTP status or not.
                if kind == "application/json":
                    body = await _read(resp, self._limit)
                    if _is_response_to(body, request_id):
                        return body
                    raise UpstreamError(f"upstream answered HTTP {resp.status}: {_clip(body)}")
                raise UpstreamError(f"upstream answered HTTP {resp.status}{await _excerpt(resp)}")
            if kind == "application/json":
                body = await _read(resp, self._limit)
                if not _is_response_to(body, request_id):
                    raise UpstreamError("upstream answered with something other than the response")
                return body
            if kind == "text/event-stream":
                answer = await self._read_stream(resp, request_id, on_message, on_pause)
                # The upstream ends the stream after the response; reading that end in the
                # background lets the connection be reused. Released at once instead, it was
                # closed: a new TCP connection per call, 40 % of hosting's samples (make bench).
                _finish_later(resp)
                resp = None
                return answer
            raise UpstreamError(f"upstream answered with content type {kind or 'none'}")
        except TimeoutError as exc:  # aiohttp's socket timeouts are ClientErrors too: this goes first
            if isinstance(exc, aiohttp.ConnectionTimeoutError):  # no connection: nothing was sent
                raise Unreachable("upstream unreachable: no connection in time") from None
            raise UpstreamError("upstream did not answer in time") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _unreachable(exc) from None
        finally:
            if resp is not None:
                resp.release()

    async def _read_stream(self, resp: aiohttp.ClientResponse, request_id: int | str,
                           on_message: OnMessage, on_pause: OnPause | None = None) -> bytes:
        """The response from the request's stream; resumed with Last-Event-ID if the upstream closes it
        first (2025-11-25 servers do, to let a client poll), as long as it gave the events ids."""
        resumed: list[aiohttp.ClientResponse] = []
        try:
            return await self._read_resuming(resp, request_id, on_message, resumed, on_pause)
        finally:
            for extra in resumed:
                extra.release()

    async def _read_resuming(self, resp: aiohttp.ClientResponse, request_id: int | str, on_message: OnMessage,
                             resumed: list[aiohttp.ClientResponse], on_pause: OnPause | None) -> bytes:
        wanted = id_key(request_id)
        last_id: str | None = None
        retry_ms: int | None = None
        for _ in range(MAX_RESUMES + 1):
            progressed = False
            try:
                async for event in full_events(resp.content, self._limit):
                    if event.id is not None:
                        last_id, progressed = event.id, True
                    if event.retry is not None:
                        retry_ms = event.retry
                    if event.kind != "message" or not event.data:
                        continue
                    raw = event.data.encode()
                    try:
                        message = _message.decode(raw)
                    except msgspec.DecodeError:
                        log.warning("upstream sent an event that is not a JSON-RPC message; skipped")
                        continue
                    if message.method is msgspec.UNSET and message.id is not msgspec.UNSET \
                            and id_key(message.id) == wanted:
                        return raw
                    await on_message(raw)
            except EventRefused as exc:
                raise UpstreamError(f"upstream sent a message {exc}") from None
            except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError):
                pass  # cut mid-stream: resumable like a clean close
            if last_id is None or not self.session_id:
                break
            if on_pause is not None:
                await on_pause(retry_ms or 0)
            await asyncio.sleep(min((retry_ms or 0) / 1000, MAX_RETRY_DELAY))
            resp.release()
            resp = await self._resume(last_id)
            resumed.append(resp)
            if not progressed and resp.status != 200:
                break
        raise UpstreamError("upstream closed the stream without answering")

    async def _resume(self, last_id: str) -> aiohttp.ClientResponse:
        headers = self._request_headers(None)
        headers["Accept"] = "text/event-stream"
        headers["Last-Event-ID"] = last_id
        resp = await self._http.get(self.url, headers=headers, allow_redirects=False)
        if resp.status != 200 or resp.content_type != "text/event-stream":
            resp.release()
            raise UpstreamError(f"upstream refused to resume the stream: HTTP {resp.status}")
        return resp

    async def follow(self, body: bytes, headers: dict[str, str], on_message: OnMessage) -> None:
        """POST a long-lived request (2026-07-28 `subscriptions/listen`) and hand every message of its
        stream to `on_message` until the upstream ends it; no read timeout (it may be quiet for long)."""
        headers = {**self._headers, **headers, "Content-Type": "application/json",
                   "Accept": "application/json, text/event-stream"}
        timeout = aiohttp.ClientTimeout(total=None, connect=self._http.timeout.connect, sock_read=None)
        try:
            async with self._http.post(self.url, data=body, headers=headers, timeout=timeout,
                                       allow_redirects=False) as resp:
                self.status = resp.status
                if resp.content_type == "application/json":  # an answer at once (an error, say)
                    await on_message(await _read(resp, self._limit))
                    return
                if resp.status >= 400 or resp.content_type != "text/event-stream":
                    raise UpstreamError(f"upstream refused the subscription: HTTP {resp.status}")
                async for kind, data in events(resp.content, self._limit):
                    if kind == "message" and data:
                        await on_message(data.encode())
        except EventRefused as exc:
            raise UpstreamError(f"upstream sent a message {exc}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _unreachable(exc) from None

    def listen(self, on_message: OnMessage) -> None:
        """Hold the session's GET stream (messages not tied to a request), re-opened if it drops."""
        if self._stream is None:
            self._stream = asyncio.get_running_loop().create_task(self._listen(on_message))

    async def _listen(self, on_message: OnMessage) -> None:
        delay = 0.5
        while self.session_id:
            headers = self._request_headers(None)
            headers["Accept"] = "text/event-stream"
            try:
                timeout = aiohttp.ClientTimeout(total=None, connect=self._http.timeout.connect, sock_read=None)
                async with self._http.get(self.url, headers=headers, timeout=timeout, allow_redirects=False) as resp:
                    if resp.status in (404, 405) or resp.status >= 400:
                        return  # no standalone stream offered (405), or the session is gone
                    delay = 0.5
                    async for kind, data in events(resp.content, self._limit):
                        if kind == "message" and data:
                            await on_message(data.encode())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # dropped: try again, slower each time
                log.debug("upstream GET stream dropped: %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def close(self, terminate: bool = True) -> None:
        """Stop listening and (when `terminate`) end the session upstream with DELETE."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.cancel()
        if terminate and self.session_id:
            headers = self._request_headers(None)
            try:
                async with asyncio.timeout(5):
                    async with self._http.delete(self.url, headers=headers, allow_redirects=False):
                        pass
            except Exception as exc:  # the upstream forgets it on its own
                log.debug("upstream DELETE failed: %s", exc)
        self.session_id = None


_finishing: set[asyncio.Task[None]] = set()


def _finish_later(resp: aiohttp.ClientResponse) -> None:
    task = asyncio.get_running_loop().create_task(_drain(resp))
    _finishing.add(task)
    task.add_done_callback(_finishing.discard)


async def _drain(resp: aiohttp.ClientResponse) -> None:
    """Read a request's stream to its end (what follows the response is not for anyone), then give
    the connection back to the pool; one the upstream keeps open past DRAIN_TIMEOUT is closed."""
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT):
            while await resp.content.readany():
                pass
    except (TimeoutError, aiohttp.ClientError, OSError):
        resp.close()
        return
    resp.release()


def _is_response_to(body: bytes, request_id: int | str) -> bool:
    try:
        message = _message.decode(body)
    except msgspec.DecodeError:
        return False
    return message.method is msgspec.UNSET and message.id is not msgspec.UNSET \
        and id_key(message.id) == id_key(request_id)


async def _read(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    body = await resp.content.read(limit + 1)
    if len(body) > limit:
        raise UpstreamError(f"upstream sent a message larger than {limit} bytes")
    try:
        untrusted.check_json(body)
    except untrusted.TooDeep as exc:
        raise UpstreamError(f"upstream sent a message {exc}") from None
    return body


async def _excerpt(resp: aiohttp.ClientResponse) -> str:
    try:
        body = await resp.content.read(EXCERPT)
    except Exception:
        return ""
    return f": {_clip(body)}" if body else ""


def _clip(body: bytes) -> str:
    text = body[:EXCERPT].decode("utf-8", "replace").strip()
    return " ".join(text.split())


def _unreachable(exc: BaseException) -> UpstreamError:
    connect_failed = (isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
                      and not isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError))
    return (Unreachable if connect_failed else UpstreamError)(f"upstream unreachable: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate could not be verified"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connection refused or failed"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "it closed the connection"
    return type(exc).__name__
