"""2026-07-28 requests to a hosted server, passed through as they are: no session, no handshake.

Each request goes up with its own protocol headers and `_meta` (the client's capabilities travel
in it), and the upstream's answer comes back with its HTTP status: a modern error's status is
part of it. Multi round-trip results (`input_required`) and their retries pass untouched: the
`requestState` is the upstream's. Whether an upstream speaks 2026-07-28 is asked once per server
and kept (`server/discover`); one that does not is reported to the client as an unsupported
version, listing what the gateway speaks with it (the handshake era), so the client falls back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from mcpgw.contracts import UpstreamCall, UpstreamConfig, UpstreamEvent, UpstreamReply
from mcpgw.jsonrpc import Message
from mcpgw.protocol import MODERN_VERSION, SUPPORTED_VERSIONS
from mcpgw.runtime.bus import Bus
from mcpgw_hosting.settings import HostingSettings
from mcpgw_hosting.upstream.errors import UpstreamError
from mcpgw_hosting.upstream.handshake import initialize
from mcpgw_hosting.upstream.http import UpstreamHttp, credential_headers, target_url
from mcpgw_hosting.upstream.streamable import StreamableUpstream, ignore

log = logging.getLogger(__name__)

# How often a quiet subscription passed through says it is alive (the edge gives up on a relayed
# call silent for its upstream timeout, 130 s by default).
LISTEN_KEEPALIVE = 30.0

_PROBE_META = {"io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
               "io.modelcontextprotocol/clientCapabilities": {},
               "io.modelcontextprotocol/clientInfo": {"name": "mcpgw", "version": "0.1.0"}}


class _Discovered(msgspec.Struct):
    supportedVersions: list[str] = []
    capabilities: dict[str, Any] = {}
    instructions: str | None = None
    meta: dict[str, Any] = msgspec.field(default_factory=dict, name="_meta")


class _DiscoverAnswer(msgspec.Struct):
    result: _Discovered | None = None


_discover_answer = msgspec.json.Decoder(_DiscoverAnswer)
_message = msgspec.json.Decoder(Message)


class ModernPassThrough:
    def __init__(self, bus: Bus, http: UpstreamHttp, settings: HostingSettings) -> None:
        self._bus = bus
        self._http = http
        self._settings = settings
        # (server id, revision) -> (until when, its discovery if the upstream speaks 2026-07-28)
        self._eras: dict[tuple[str, int], tuple[float, _Discovered | None]] = {}
        # (server id, revision) -> (until when, whether it takes `initialize`)
        self._handshake: dict[tuple[str, int], tuple[float, bool]] = {}

    def client(self, config: UpstreamConfig, backend: int = 0) -> StreamableUpstream:
        """A client for one stateless request (a session-less upstream needs no more); `backend`:
        what the edge chose from this request (2026-07-28: each request chooses)."""
        return self._client(config, backend)

    def _client(self, config: UpstreamConfig, backend: int = 0) -> StreamableUpstream:
        target = self._http.pick(config, backend)
        return StreamableUpstream(self._http.client(target), target_url(target, config.backend.path, config.credential),
                                  credential_headers(config.credential), self._settings.max_message_bytes)

    async def speaks_modern(self, config: UpstreamConfig) -> bool:
        return (await self.discover(config)) is not None

    async def modern_only(self, config: UpstreamConfig) -> bool:
        """True for an upstream that speaks 2026-07-28 and none of the handshake era. Its discovery
        may list 2026-07-28 alone and still take `initialize` (an SDK server serves both eras on
        one endpoint): only an `initialize` it refuses settles it (asked once a while)."""
        found = await self.discover(config)
        if found is None or any(v in SUPPORTED_VERSIONS for v in found.supportedVersions):
            return False
        key = (config.server_id, config.revision)
        known = self._handshake.get(key)
        if known is not None and known[0] > time.monotonic():
            return not known[1]
        client = self._client(config)
        try:
            async with asyncio.timeout(self._settings.describe_timeout):
                await initialize(client, b"{}", b"")
            takes_handshake = True
        except (UpstreamError, TimeoutError):
            takes_handshake = False
        finally:
            await client.close()
        self._handshake[key] = (time.monotonic() + self._settings.describe_ttl, takes_handshake)
        return not takes_handshake

    async def discover(self, config: UpstreamConfig) -> _Discovered | None:
        """What the upstream's `server/discover` says, when it speaks 2026-07-28 (asked once a while)."""
        key = (config.server_id, config.revision)
        known = self._eras.get(key)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        found: _Discovered | None = None
        if config.backend.transport == "StreamableHTTP":
            body = msgspec.json.encode({"jsonrpc": "2.0", "id": "mcpgw~discover", "method": "server/discover",
                                        "params": {"_meta": _PROBE_META}})
            headers = {"MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "server/discover"}
            try:
                async with asyncio.timeout(self._settings.describe_timeout):
                    answer = await self._client(config).post(body, "mcpgw~discover", ignore, headers)
                discovered = _discover_answer.decode(answer or b"{}").result
                if discovered is not None and MODERN_VERSION in discovered.supportedVersions:
                    found = discovered
            except (UpstreamError, TimeoutError, msgspec.DecodeError) as exc:
                log.info("upstream of %s: no 2026-07-28 discovery (%s)", config.name, exc)
        self._eras[key] = (time.monotonic() + self._settings.describe_ttl, found)
        return found

    async def relay(self, call: UpstreamCall, config: UpstreamConfig, reply: str) -> UpstreamReply:
        try:
            message = _message.decode(call.message)
        except msgspec.DecodeError:
            message = Message()

        async def emit(raw: bytes) -> None:
            if reply:
                await self._bus.emit(reply, UpstreamEvent(message=msgspec.Raw(raw)))

        client = self._client(config, call.backend)
        request_id = message.id
        assert isinstance(request_id, int | str)
        if message.method == "subscriptions/listen":
            return await self._listen(client, call, request_id, emit, reply)
        try:
            answer = await client.post(bytes(call.message), request_id, emit,
                                       {**call.forward_headers, **call.modern_headers})
        except UpstreamError as exc:
            text = f"upstream error: {exc.message}"
            if message.method == "tools/call":
                result = {"resultType": "complete", "content": [{"type": "text", "text": text}], "isError": True}
                failed = {"jsonrpc": "2.0", "id": request_id, "result": result}
            else:
                failed = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32603, "message": text}}
            return UpstreamReply(message=msgspec.Raw(msgspec.json.encode(failed)))
        if answer is None:
            return UpstreamReply(status=client.status or 202)
        return UpstreamReply(message=msgspec.Raw(answer), status=client.status or 200)


    async def _listen(self, client: StreamableUpstream, call: UpstreamCall, request_id: int | str,
                      emit: Callable[[bytes], Awaitable[None]], reply: str) -> UpstreamReply:
        """A subscription passed through: open for as long as the upstream keeps it (no read timeout;
        a quiet one sends keep-alive events so the edge keeps waiting) or the client stays."""
        ended: list[bytes] = []
        wanted = msgspec.json.encode(request_id)

        async def on_message(raw: bytes) -> None:
            try:
                decoded = _message.decode(raw)
            except msgspec.DecodeError:
                return
            if decoded.method is msgspec.UNSET and msgspec.json.encode(decoded.id) == wanted:
                ended.append(raw)  # the upstream's graceful end of the subscription
            else:
                await emit(raw)

        async def keep_alive() -> None:
            while True:
                await asyncio.sleep(LISTEN_KEEPALIVE)
                if reply:
                    await self._bus.emit(reply, UpstreamEvent(keepalive=True))

        alive = asyncio.get_running_loop().create_task(keep_alive())
        try:
            await client.follow(bytes(call.message), {**call.forward_headers, **call.modern_headers}, on_message)
        except UpstreamError as exc:
            failed = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32603,
                                                                    "message": f"upstream error: {exc.message}"}}
            return UpstreamReply(message=msgspec.Raw(msgspec.json.encode(failed)))
        finally:
            alive.cancel()
        if ended:
            return UpstreamReply(message=msgspec.Raw(ended[0]), status=client.status or 200)
        done = {"jsonrpc": "2.0", "id": request_id, "result": {"resultType": "complete"}}
        return UpstreamReply(message=msgspec.Raw(msgspec.json.encode(done)))

