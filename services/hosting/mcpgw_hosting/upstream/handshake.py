"""Opening an upstream session: `initialize` (the newest revision both sides speak), then `initialized`."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from mcpgw.protocol import LATEST_VERSION, SUPPORTED_VERSIONS
from mcpgw_hosting.upstream.errors import UpstreamError
from mcpgw_hosting.upstream.streamable import OnMessage, ignore

INIT_ID = "mcpgw~initialize"


class Upstream(Protocol):
    """What both upstream transports offer (`StreamableUpstream`, `LegacyUpstream`)."""

    transport: str
    url: str
    session_id: str | None
    protocol_version: str | None

    async def post(self, body: bytes, request_id: int | str | None, on_message: OnMessage,
                   extra_headers: dict[str, str] | None = None) -> bytes | None: ...

    def listen(self, on_message: OnMessage) -> None: ...

    async def close(self, terminate: bool = True) -> None: ...


class InitializeResult(msgspec.Struct):
    protocolVersion: str
    capabilities: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))
    serverInfo: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))
    instructions: str | None = None


class _Error(msgspec.Struct):
    code: int = 0
    message: str = ""


class _Answer(msgspec.Struct):
    result: InitializeResult | None = None
    error: _Error | None = None


_answer = msgspec.json.Decoder(_Answer)



async def initialize(upstream: Upstream, capabilities: bytes, client_info: bytes,
                     extra_headers: dict[str, str] | None = None) -> InitializeResult:
    params: dict[str, Any] = {"protocolVersion": LATEST_VERSION,
                              "capabilities": msgspec.Raw(capabilities or b"{}"),
                              "clientInfo": msgspec.Raw(client_info if client_info not in (b"", b"{}") else
                                                        b'{"name":"mcpgw","version":"0.1.0"}')}
    body = msgspec.json.encode({"jsonrpc": "2.0", "id": INIT_ID, "method": "initialize", "params": params})
    raw = await upstream.post(body, INIT_ID, ignore, extra_headers)
    if raw is None:
        raise UpstreamError("upstream did not answer initialize")
    try:
        answer = _answer.decode(raw)
    except msgspec.DecodeError as exc:
        raise UpstreamError(f"upstream answered initialize with nonsense: {exc}") from None
    if answer.error is not None:
        raise UpstreamError(f"upstream refused initialize: {answer.error.message} ({answer.error.code})")
    if answer.result is None:
        raise UpstreamError("upstream answered initialize without a result")
    version = answer.result.protocolVersion
    if version not in SUPPORTED_VERSIONS:
        raise UpstreamError(f"upstream speaks protocol revision {version}, which mcpgw does not")
    upstream.protocol_version = version
    await upstream.post(b'{"jsonrpc":"2.0","method":"notifications/initialized"}', None, ignore, extra_headers)
    return answer.result
