"""The client's credential and claim headers at the backend: passthrough only where configured."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from mcpgw_toolexec.service import ToolexecService

from mcpgw.contracts import ToolCallReply, ToolCallRequest
from mcpgw.runtime.bus import Bus
from tests.toolexec.rig import Echo, FakeRegistry, publish

CLIENT = "Bearer mcpgw_the-clients-own-key"

SCHEMES = """
  securitySchemes:
    - {id: bearer, type: http, scheme: bearer, defaultCredential: backend-token}
    - {id: basic, type: http, scheme: basic}
    - {id: key, type: apiKey, in: header, name: X-API-Key, defaultCredential: backend-key}
    - {id: client, type: http, scheme: bearer}
  defaultUpstreamSecurity: {id: bearer}"""

TOOLS = """
- name: configured
  args: [{name: X-User, position: header}]
  requestTemplate: {url: "{{.config.base}}/a", headers: [{key: X-Tenant, value: from-template}]}
- name: api_key
  requestTemplate: {url: "{{.config.base}}/a", security: {id: key}}
- name: passthrough_down
  security: {id: client, passthrough: true}
  requestTemplate: {url: "{{.config.base}}/a", security: {id: basic}}
- name: passthrough_up
  requestTemplate: {url: "{{.config.base}}/a", security: {id: key, passthrough: true}}
- name: passthrough_no_default
  requestTemplate: {url: "{{.config.base}}/a", security: {id: client, passthrough: true}}
"""


async def call(bus: Bus, tool: str, arguments: dict[str, Any] | None = None, *, credential: str = "",
               forward: dict[str, str] | None = None) -> dict[str, Any]:
    reply = await bus.request(
        bus.subjects.toolexec_call("s1"),
        ToolCallRequest(server_id="s1", revision=1, tool=tool,
                        arguments=msgspec.Raw(msgspec.json.encode(arguments or {})),
                        client_credential=credential, forward_headers=forward or {}),
        ToolCallReply)
    result: dict[str, Any] = msgspec.json.decode(reply.result)
    assert result["isError"] is False, result
    return result


async def test_the_client_credential_reaches_a_backend_only_with_passthrough(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, TOOLS, server_extra=SCHEMES)
    await call(bus, "configured", credential=CLIENT)
    assert echo.last.headers["Authorization"] == "Bearer backend-token"
    await call(bus, "api_key", credential=CLIENT)
    assert echo.last.headers["X-API-Key"] == "backend-key" and "Authorization" not in echo.last.headers
    for seen in echo.seen:
        assert "the-clients-own-key" not in str(dict(seen.headers))

    # Passthrough beats the configured credential, formatted for the upstream scheme ...
    await call(bus, "passthrough_down", credential=CLIENT)
    assert echo.last.headers["Authorization"] == "Basic mcpgw_the-clients-own-key"
    await call(bus, "passthrough_down", credential="Basic " + base64.b64encode(b"u:p").decode())
    assert echo.last.headers["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    await call(bus, "passthrough_up", credential=CLIENT)
    assert echo.last.headers["X-API-Key"] == "mcpgw_the-clients-own-key"
    # ... and without a client credential the configured one (or none) is used.
    await call(bus, "passthrough_up")
    assert echo.last.headers["X-API-Key"] == "backend-key"
    await call(bus, "passthrough_no_default")
    assert "Authorization" not in echo.last.headers
    await call(bus, "passthrough_no_default", credential=CLIENT)
    assert echo.last.headers["Authorization"] == CLIENT


async def test_passthrough_auth_header_forwards_the_header_as_it_came(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: plain
  requestTemplate: {url: "{{.config.base}}/a"}
- name: own_auth
  requestTemplate: {url: "{{.config.base}}/a", headers: [{key: Authorization, value: Token fixed}]}
""", server_extra="  passthroughAuthHeader: true")
    await call(bus, "plain", credential=CLIENT)
    assert echo.last.headers["Authorization"] == CLIENT
    await call(bus, "plain")
    assert "Authorization" not in echo.last.headers
    await call(bus, "own_auth", credential=CLIENT)
    assert echo.last.headers.getall("Authorization") == ["Token fixed"]


async def test_claim_headers_win_over_arguments_but_not_over_credentials(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, TOOLS, server_extra=SCHEMES)
    forward = {"X-User": "alice", "X-Tenant": "t1", "Authorization": "Bearer spoof", "Host": "evil.example",
               "Content-Length": "0", "X-Bad": "a\r\nX-Injected: 1", "Bad Name": "x"}
    await call(bus, "configured", {"X-User": "mallory"}, forward=forward)
    headers = echo.last.headers
    assert headers.getall("X-User") == ["alice"] and headers.getall("X-Tenant") == ["t1"]
    assert headers["Authorization"] == "Bearer backend-token"
    assert headers["Host"].startswith("127.0.0.1") and "X-Injected" not in headers and "X-Bad" not in headers
