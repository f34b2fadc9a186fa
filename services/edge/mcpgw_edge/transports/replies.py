"""JSON-RPC error answers over HTTP and reading a POSTed JSON-RPC body, for both transports."""

from __future__ import annotations

from mcpgw import jsonrpc
from mcpgw.contracts import McpgwError
from mcpgw.jsonrpc import InvalidMessage, Message
from mcpgw_edge.http import BodyTimeout, BodyTooLarge, HeaderList, Request, Response

JSON = "application/json"
JSON_HEADERS: HeaderList = [("content-type", JSON)]


def json_response(body: bytes, status: int = 200, headers: HeaderList | None = None) -> Response:
    return Response(status, body, [*JSON_HEADERS, *headers] if headers else JSON_HEADERS)


def rpc_error_response(status: int, code: int, message: str, request_id: jsonrpc.RequestId | None = None,
                       headers: HeaderList | None = None, data: object = None) -> Response:
    return json_response(jsonrpc.error(request_id, code, message, data), status, headers)


def unavailable(exc: McpgwError) -> Response:
    return rpc_error_response(503 if exc.http_status >= 500 else exc.http_status, jsonrpc.INTERNAL_ERROR,
                              f"gateway unavailable: {exc.message}")


async def read_messages(request: Request, limit: int) -> Message | list[Message] | Response:
    """The POSTed JSON-RPC message(s), or the error response for a body we refuse."""
    if request.content_type != JSON:
        return rpc_error_response(400, jsonrpc.INVALID_REQUEST, "Invalid Content-Type: expected application/json")
    body = await read_body(request, limit)
    if isinstance(body, Response):
        return body
    try:
        return jsonrpc.decode(body)
    except InvalidMessage as exc:
        return rpc_error_response(400, exc.code, exc.message, exc.request_id)


async def read_body(request: Request, limit: int) -> bytes | Response:
    """The request body, or the error response for one too large or too slow to arrive."""
    length = request.content_length
    if length is not None and length > limit:
        return rpc_error_response(413, jsonrpc.INVALID_REQUEST, "request body too large")
    try:
        return await request.body(limit)
    except BodyTimeout:
        return rpc_error_response(408, jsonrpc.INVALID_REQUEST, "request body not received in time")
    except BodyTooLarge:
        return rpc_error_response(413, jsonrpc.INVALID_REQUEST, "request body too large")
