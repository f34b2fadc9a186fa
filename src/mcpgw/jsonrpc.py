"""JSON-RPC 2.0 framing for MCP (edge and hosting): one msgspec decode per message, responses spliced as bytes."""

from __future__ import annotations

from typing import Any

import msgspec

from mcpgw import untrusted

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

RequestId = int | str
# An absent undecoded member reads as this: msgspec.Raw cannot share a union with None.
NULL = msgspec.Raw(b"null")


class Message(msgspec.Struct, omit_defaults=True):
    """Any JSON-RPC message; `params`, `result` and `error` stay undecoded until a handler needs them."""

    jsonrpc: str | msgspec.UnsetType = msgspec.UNSET
    id: int | str | msgspec.UnsetType | None = msgspec.UNSET
    method: str | msgspec.UnsetType = msgspec.UNSET
    params: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET

    @property
    def is_request(self) -> bool:
        return self.method is not msgspec.UNSET and self.id is not msgspec.UNSET

    @property
    def is_notification(self) -> bool:
        return self.method is not msgspec.UNSET and self.id is msgspec.UNSET


class InvalidMessage(Exception):
    """A body that is JSON but not a valid JSON-RPC message (-32600), or not JSON at all (-32700)."""

    def __init__(self, code: int, message: str, request_id: RequestId | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


_single = msgspec.json.Decoder(Message)
_batch = msgspec.json.Decoder(list[Message])
_encode = msgspec.json.encode
_any = msgspec.json.Decoder().decode


def decode(body: bytes) -> Message | list[Message]:
    """Decode a POST body: one message or (for 2025-03-26) a batch array."""
    stripped = body.lstrip()
    try:
        # Before the decoder, which recurses per level even through the members it leaves undecoded.
        untrusted.check_json(body)
        if stripped[:1] == b"[":
            messages = _batch.decode(body)
            if not messages:
                raise InvalidMessage(INVALID_REQUEST, "empty batch")
            for m in messages:
                _validate(m)
            return messages
        message = _single.decode(body)
    except (msgspec.ValidationError, untrusted.TooDeep) as exc:
        if isinstance(exc, msgspec.ValidationError) and (problem := _malformed(body)):
            raise InvalidMessage(PARSE_ERROR, f"parse error: {problem}") from None
        raise InvalidMessage(INVALID_REQUEST, f"invalid JSON-RPC message: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidMessage(PARSE_ERROR, f"parse error: {exc}") from None
    _validate(message)
    return message


def _malformed(body: bytes) -> str | None:
    """What is malformed in a body refused for a wrong type: msgspec stops at the first, so JSON
    broken further on (`{"id": [], "result": NaN}`) must still be a parse error. Errors only."""
    try:
        _any(body)
    except msgspec.ValidationError:  # JSON, with a number no Python type holds
        return None
    except msgspec.DecodeError as exc:
        return str(exc)
    return None


def _validate(message: Message) -> None:
    request_id = message.id if isinstance(message.id, int | str) else None
    if message.jsonrpc != "2.0":
        raise InvalidMessage(INVALID_REQUEST, 'jsonrpc must be "2.0"', request_id)
    is_response = message.result is not msgspec.UNSET or message.error is not msgspec.UNSET
    if message.method is msgspec.UNSET and not is_response:
        raise InvalidMessage(INVALID_REQUEST, "message has neither method nor result/error", request_id)
    if message.method is not msgspec.UNSET and message.id is None:
        raise InvalidMessage(INVALID_REQUEST, "request id must not be null")


def result(request_id: RequestId, payload: bytes) -> bytes:
    return b'{"jsonrpc":"2.0","id":' + _encode(request_id) + b',"result":' + payload + b"}"


def error(request_id: RequestId | None, code: int, message: str, data: Any = None) -> bytes:
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    return _encode({"jsonrpc": "2.0", "id": request_id, "error": body})


def notification(method: str, params: Any = None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return _encode(message)


class RpcError(Exception):
    """Raised by method handlers; becomes a JSON-RPC error response."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
