"""An upstream session over the legacy HTTP+SSE transport (2024-11-05).

The session is its GET stream: one worker holds it, and every answer arrives on it. Responses
find their request by id; progress finds it by token; any other message goes to the request in
flight when there is exactly one (the legacy transport cannot say more), else to the session's
listener (the client's own stream).
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urljoin, urlsplit

import aiohttp
import msgspec

from mcpgw.jsonrpc import Message
from mcpgw_hosting.upstream.errors import UpstreamError
from mcpgw_hosting.upstream.sse import EventRefused, events
from mcpgw_hosting.upstream.streamable import OnMessage, _describe, id_key

log = logging.getLogger(__name__)

_message = msgspec.json.Decoder(Message)
# Notifications never about a request: always the session's, even with one request in flight.
CHANGES = frozenset({"notifications/tools/list_changed", "notifications/prompts/list_changed",
                     "notifications/resources/list_changed", "notifications/resources/updated"})


class _ProgressParams(msgspec.Struct):
    progressToken: int | str | None = None


_progress = msgspec.json.Decoder(_ProgressParams)


class _Pending:
    __slots__ = ("future", "on_message", "token")

    def __init__(self, future: asyncio.Future[bytes], on_message: OnMessage, token: str | None) -> None:
        self.future = future
        self.on_message = on_message
        self.token = token


class LegacyUpstream:
    transport = "SSE"

    def __init__(self, http: aiohttp.ClientSession, url: str, headers: dict[str, str], limit: int,
                 timeout: float, on_unrelated: OnMessage) -> None:
        self._http = http
        self.url = url
        self._headers = headers
        self._limit = limit
        self._timeout = timeout
        self._on_unrelated = on_unrelated
        self._endpoint: asyncio.Future[str] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, _Pending] = {}
        self.session_id: str | None = None  # the endpoint's URL stands for it
        self.protocol_version: str | None = None
        self.closed = False

    async def open(self, connect_timeout: float) -> None:
        loop = asyncio.get_running_loop()
        self._endpoint = loop.create_future()
        self._reader = loop.create_task(self._read())
        try:
            async with asyncio.timeout(connect_timeout):
                endpoint = await asyncio.shield(self._endpoint)
        except TimeoutError:
            await self.close()
            raise UpstreamError("upstream SSE stream announced no endpoint in time") from None
        except UpstreamError:
            await self.close()
            raise
        self.session_id = endpoint

    async def _read(self) -> None:
        assert self._endpoint is not None
        headers = {**self._headers, "Accept": "text/event-stream"}
        timeout = aiohttp.ClientTimeout(total=None, connect=self._http.timeout.connect, sock_read=None)
        failure = "upstream SSE stream closed"
        try:
            async with self._http.get(self.url, headers=headers, timeout=timeout, allow_redirects=False) as resp:
                if resp.status != 200 or resp.content_type != "text/event-stream":
                    raise UpstreamError(f"upstream SSE stream refused: HTTP {resp.status}")
                async for kind, data in events(resp.content, self._limit):
                    if kind == "endpoint":
                        self._set_endpoint(data.strip())
                    elif kind == "message" and data:
                        await self._route(data.encode())
        except UpstreamError as exc:
            failure = exc.message
        except EventRefused as exc:
            failure = f"upstream sent a message {exc}"
        except (aiohttp.ClientError, OSError) as exc:
            failure = f"upstream unreachable: {_describe(exc)}"
        except asyncio.CancelledError:
            failure = "upstream session closed"
            raise
        finally:
            self.closed = True
            if not self._endpoint.done():
                self._endpoint.set_exception(UpstreamError(failure))
                self._endpoint.exception()
            for pending in self._pending.values():
                if not pending.future.done():
                    pending.future.set_exception(UpstreamError(failure))
            self._pending.clear()

    def _set_endpoint(self, value: str) -> None:
        assert self._endpoint is not None
        endpoint = urljoin(self.url, value)
        # The endpoint is the upstream's to name, but only on its own origin: a stream must not
        # send the gateway's requests (and credentials) to another host.
        if urlsplit(endpoint)[:2] != urlsplit(self.url)[:2]:
            if not self._endpoint.done():
                self._endpoint.set_exception(UpstreamError("upstream announced an endpoint on another origin"))
            return
        if not self._endpoint.done():
            self._endpoint.set_result(endpoint)

    async def _route(self, raw: bytes) -> None:
        try:
            message = _message.decode(raw)
        except msgspec.DecodeError:
            log.warning("upstream sent an event that is not a JSON-RPC message; skipped")
            return
        if message.method is msgspec.UNSET:
            if message.id is not msgspec.UNSET:
                pending = self._pending.pop(id_key(message.id), None)
                if pending is not None and not pending.future.done():
                    pending.future.set_result(raw)
            return
        target: _Pending | None = None
        if message.method == "notifications/progress" and message.params is not msgspec.UNSET:
            try:
                token = _progress.decode(message.params).progressToken
            except msgspec.DecodeError:
                token = None
            if token is not None:
                key = id_key(token)
                target = next((p for p in self._pending.values() if p.token == key), None)
        elif len(self._pending) == 1 and message.method not in CHANGES:
            target = next(iter(self._pending.values()))
        try:
            await (target.on_message if target is not None else self._on_unrelated)(raw)
        except Exception:
            log.exception("relaying an upstream message failed")

    async def post(self, body: bytes, request_id: int | str | None, on_message: OnMessage,
                   extra_headers: dict[str, str] | None = None, progress_token: object = None) -> bytes | None:
        if self.closed or self.session_id is None:
            raise UpstreamError("upstream SSE stream closed")
        future: asyncio.Future[bytes] | None = None
        key = ""
        if request_id is not None:
            key = id_key(request_id)
            future = asyncio.get_running_loop().create_future()
            token = None if progress_token is None else id_key(progress_token)
            self._pending[key] = _Pending(future, on_message, token)
        headers = {**self._headers, **(extra_headers or {}), "Content-Type": "application/json"}
        try:
            try:
                async with self._http.post(self.session_id, data=body, headers=headers,
                                           allow_redirects=False) as resp:
                    if resp.status >= 300:
                        raise UpstreamError(f"upstream answered HTTP {resp.status}")
            except TimeoutError:
                raise UpstreamError("upstream did not answer in time") from None
            except (aiohttp.ClientError, OSError) as exc:
                raise UpstreamError(f"upstream unreachable: {_describe(exc)}") from None
            if future is None:
                return None
            try:
                async with asyncio.timeout(self._timeout):
                    return await future
            except TimeoutError:
                raise UpstreamError("upstream did not answer in time") from None
        finally:
            if key:
                self._pending.pop(key, None)

    def listen(self, on_message: OnMessage) -> None:
        """Messages not tied to a request already go to `on_unrelated`."""

    async def close(self, terminate: bool = True) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            try:
                await reader
            except BaseException:
                pass
        self.closed = True
