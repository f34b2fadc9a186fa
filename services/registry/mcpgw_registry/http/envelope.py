"""The response envelope `{requestId, code, message, data}` and the middleware that guarantees it.

Every answer of the admin API, errors included, is an envelope (but the documents it serves: tools
YAML, its OpenAPI document): unknown routes, wrong methods, oversized bodies and unexpected
exceptions too. An unexpected exception is logged with its traceback and answered with a bare
"internal error", never with the exception text.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from mcpgw.contracts.errors import ErrorCode, McpgwError

log = logging.getLogger(__name__)

REQUEST_ID = web.RequestKey("request_id", str)
MAX_BODY = web.AppKey("max_body_bytes", int)
# No shared ErrorCode fits "wrong method"; it only ever appears on this HTTP surface.
METHOD_NOT_ALLOWED = "MethodNotAllowed"

_encode = msgspec.json.Encoder().encode
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(payload: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=_encode(payload), status=status, content_type="application/json",
                        headers=headers)


def ok(request: web.Request, data: Any = None, status: int = 200) -> web.Response:
    payload: dict[str, Any] = {"requestId": request[REQUEST_ID], "code": "Ok", "message": "success"}
    if data is not None:
        payload["data"] = data
    return _json(payload, status)


def error(request_id: str, code: str, message: str, status: int,
          headers: dict[str, str] | None = None) -> web.Response:
    return _json({"requestId": request_id, "code": code, "message": message}, status, headers)


def _from_http(request: web.Request, request_id: str, exc: web.HTTPException) -> web.Response:
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = request.app[MAX_BODY]
        return error(request_id, ErrorCode.PAYLOAD_TOO_LARGE, f"body: larger than the limit of {limit} bytes", 413)
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return error(request_id, METHOD_NOT_ALLOWED,
                     f"method: {request.method} is not allowed on {request.path} (allowed: {allowed})",
                     405, {"Allow": allowed})
    if isinstance(exc, web.HTTPNotFound):
        return error(request_id, ErrorCode.NOT_FOUND, f"path: no route for {request.method} {request.path}", 404)
    code = {400: ErrorCode.INVALID_PARAMETER, 415: ErrorCode.UNSUPPORTED_MEDIA_TYPE}.get(
        exc.status, ErrorCode.INTERNAL)
    return error(request_id, code, exc.reason, exc.status)


@web.middleware
async def envelope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = str(uuid.uuid4())
    request[REQUEST_ID] = request_id
    try:
        response = await handler(request)
    except McpgwError as exc:
        response = error(request_id, exc.code, exc.message, exc.http_status)
    except web.HTTPException as exc:
        response = _from_http(request, request_id, exc)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s %s failed (request %s)", request.method, request.path, request_id)
        response = error(request_id, ErrorCode.INTERNAL, "internal error", 500)
    response.headers["X-Request-Id"] = request_id
    return response
