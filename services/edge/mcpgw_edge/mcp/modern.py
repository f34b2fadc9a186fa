"""MCP 2026-07-28 (stateless): a request's metadata checked, and the results only this revision has.

Every request carries its revision and the client's capabilities in `_meta`, and mirrors its
method (and tool, prompt or resource name) in headers the gateway routes on; the body is checked
against them once. No session is read: any edge replica serves any request.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from mcpgw.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, NULL, Message
from mcpgw.protocol import (
    META_CAPABILITIES,
    META_SERVER_INFO,
    META_SUBSCRIPTION,
    META_VERSION,
    MODERN_VERSION,
    SUPPORTED_VERSIONS,
)
from mcpgw_edge.servers import ServerEntry

HEADER_MISMATCH = -32020
MISSING_CAPABILITY = -32021
UNSUPPORTED_VERSION = -32022


# Both eras, newest first: what `server/discover` and a version error list for a REST server.
ALL_VERSIONS = (MODERN_VERSION, *SUPPORTED_VERSIONS)
# Methods whose `Mcp-Name` header mirrors `params.name` or `params.uri`.
NAMED = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
# Handshake-era methods this revision removed (answered 404 / -32601 like any unknown method).
REMOVED = frozenset({"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"})


class Refusal(Exception):
    """A modern request refused before any work: HTTP status, JSON-RPC code, message, data."""

    def __init__(self, status: int, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data


class RequestMeta(msgspec.Struct):
    """What a request's `_meta` says to the gateway: the revision and client capabilities
    (2026-07-28), and W3C trace context (SEP-414, both eras)."""

    version: Any = msgspec.field(default=None, name=META_VERSION)
    # Kept undecoded (checked to be an object): the edge itself needs none of it, and decoding a
    # client's capabilities into dicts on every request was most of this check's cost.
    capabilities: msgspec.Raw = msgspec.field(default_factory=lambda: NULL, name=META_CAPABILITIES)
    traceparent: str | None = None
    tracestate: str | None = None
    baggage: str | None = None

    def parent(self) -> dict[str, str] | None:
        """The trace context to continue, as headers; None without one."""
        if self.traceparent is None:
            return None
        found = {"traceparent": self.traceparent}
        if self.tracestate is not None:
            found["tracestate"] = self.tracestate
        if self.baggage is not None:
            found["baggage"] = self.baggage
        return found


class _Params(msgspec.Struct):
    meta: RequestMeta | None = msgspec.field(default=None, name="_meta")
    name: Any = None
    uri: Any = None


_params = msgspec.json.Decoder(_Params)


def unsupported(requested: str, supported: tuple[str, ...]) -> Refusal:
    return Refusal(400, UNSUPPORTED_VERSION, f"Unsupported protocol version: {requested}",
                   {"supported": list(supported), "requested": requested})


def decode_header_value(value: str) -> str:
    """A header value as sent, or decoded from the `=?base64?…?=` sentinel form."""
    if value.startswith("=?base64?") and value.endswith("?=") and len(value) >= 11:
        try:
            return base64.b64decode(value[9:-2], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Refusal(400, HEADER_MISMATCH, "Header mismatch: malformed base64 header value") from None
    return value


class ModernRequest:
    """What a checked 2026-07-28 request says about its client."""

    __slots__ = ("capabilities", "method")

    def __init__(self, method: str, capabilities: msgspec.Raw) -> None:
        self.method = method
        self.capabilities = capabilities


def check(message: Message, header_method: str | None, header_name: str | None) -> ModernRequest:
    """Check a request that came with `MCP-Protocol-Version: 2026-07-28` against its headers.

    `_meta` with the revision and the client's capabilities is required (-32602); the revision
    there, the method and the name must match the headers (-32020).
    """
    method = message.method
    assert isinstance(method, str)
    try:
        params = _params.decode(message.params) if message.params is not msgspec.UNSET else _Params()
    except msgspec.DecodeError as exc:
        raise Refusal(400, INVALID_PARAMS, f"invalid params: {exc}") from None
    named = params.name if NAMED.get(method) == "name" else params.uri
    return check_decoded(method, params.meta, named, header_method, header_name)


def check_decoded(method: str, meta: RequestMeta | None, named: Any, header_method: str | None,
                  header_name: str | None) -> ModernRequest:
    """`check` of a request whose `_meta` and name the caller decoded already (a REST tool call's
    params are decoded once, for this and for the call)."""
    if meta is None:
        raise Refusal(400, INVALID_PARAMS, "params._meta: required (with the protocol version and client "
                                           "capabilities)")
    if meta.version is None:
        raise Refusal(400, INVALID_PARAMS, f"params._meta[{META_VERSION!r}]: required")
    if bytes(memoryview(meta.capabilities)[:1]) != b"{":
        raise Refusal(400, INVALID_PARAMS, f"params._meta[{META_CAPABILITIES!r}]: required (an object)")
    if meta.version != MODERN_VERSION:
        raise Refusal(400, HEADER_MISMATCH, f"Header mismatch: MCP-Protocol-Version header value {MODERN_VERSION!r} "
                                            f"does not match _meta value {meta.version!r}")
    if header_method is None:
        raise Refusal(400, HEADER_MISMATCH, "Header mismatch: the Mcp-Method header is required")
    if header_method != method:
        raise Refusal(400, HEADER_MISMATCH, f"Header mismatch: Mcp-Method header value {header_method!r} does "
                                            f"not match body value {method!r}")
    if method in NAMED:
        if header_name is None:
            raise Refusal(400, HEADER_MISMATCH, f"Header mismatch: the Mcp-Name header is required for {method}")
        header_value = decode_header_value(header_name)
        if header_value != named:
            raise Refusal(400, HEADER_MISMATCH, f"Header mismatch: Mcp-Name header value {header_value!r} does "
                                                f"not match body value {named!r}")
    return ModernRequest(method, meta.capabilities)


def not_found(method: str) -> Refusal:
    return Refusal(404, METHOD_NOT_FOUND, f"Method not found: {method}")


def server_info(entry: ServerEntry) -> dict[str, Any]:
    snapshot = entry.snapshot
    version = snapshot.version or "0.1.0"
    return {"name": snapshot.name, "version": version}


def discover_result(entry: ServerEntry, ttl_ms: int) -> bytes:
    """A REST-converted or assembled server's discovery: both eras, its tools."""
    result: dict[str, Any] = {
        "resultType": "complete",
        "supportedVersions": list(ALL_VERSIONS),
        "capabilities": {"tools": {"listChanged": True}},
        "_meta": {META_SERVER_INFO: server_info(entry)},
        "ttlMs": ttl_ms,
        "cacheScope": "public",
    }
    if entry.snapshot.description:
        result["instructions"] = entry.snapshot.description
    return msgspec.json.encode(result)


def with_versions(response: bytes) -> bytes:
    """A `server/discover` response with the gateway's own `supportedVersions`."""
    try:
        decoded: dict[str, Any] = msgspec.json.decode(response)
    except msgspec.DecodeError:
        return response
    result = decoded.get("result")
    if not isinstance(result, dict):
        return response
    result["supportedVersions"] = list(ALL_VERSIONS)
    return msgspec.json.encode(decoded)


def complete(payload: bytes) -> bytes:
    """A result (an encoded JSON object) with `resultType: "complete"` added, as every result needs."""
    if payload == b"{}":
        return b'{"resultType":"complete"}'
    return b'{"resultType":"complete",' + payload[1:]


def cacheable(payload: bytes, ttl_ms: int, private: bool) -> bytes:
    """A list or read result with its caching hints: `private` when it depends on who asks."""
    scope = b'"private"' if private else b'"public"'
    head = b'{"resultType":"complete","ttlMs":%d,"cacheScope":%s' % (ttl_ms, scope)
    return head + b"}" if payload == b"{}" else head + b"," + payload[1:]


class ListenParams(msgspec.Struct):
    notifications: dict[str, Any] = {}


_listen_params = msgspec.json.Decoder(ListenParams)


def listen_filter(message: Message) -> dict[str, Any]:
    if message.params is msgspec.UNSET:
        return {}
    try:
        return _listen_params.decode(message.params).notifications
    except msgspec.DecodeError as exc:
        raise Refusal(400, INVALID_PARAMS, f"invalid subscriptions/listen params: {exc}") from None


def acknowledged(subscription_id: Any, agreed: dict[str, Any]) -> bytes:
    return msgspec.json.encode({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                                "params": {"_meta": {META_SUBSCRIPTION: subscription_id}, "notifications": agreed}})


def tools_list_changed(subscription_id: Any) -> bytes:
    return msgspec.json.encode({"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
                                "params": {"_meta": {META_SUBSCRIPTION: subscription_id}}})
