"""The envelope middleware: every answer is `{requestId, code, message, data?}`, a crash a bare 500."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from mcpgw_registry.http.envelope import MAX_BODY, envelope_middleware

from mcpgw.contracts.errors import ErrorCode, McpgwError


async def test_unexpected_exceptions_become_a_bare_500() -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret detail from deep inside")

    async def refused(request: web.Request) -> web.Response:
        raise McpgwError(ErrorCode.CONFLICT, "name: taken")

    app = web.Application(middlewares=[envelope_middleware])
    app[MAX_BODY] = 1024
    app.router.add_get("/broken", broken)
    app.router.add_get("/refused", refused)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/broken")
        body = await resp.json()
        assert resp.status == 500
        assert (body["code"], body["message"]) == ("InternalError", "internal error")
        assert "secret" not in await resp.text() and "Traceback" not in await resp.text()
        resp = await client.get("/refused")
        assert resp.status == 409 and (await resp.json())["code"] == "Conflict"
