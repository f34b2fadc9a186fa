"""The demo `make up` configures through the admin API: its servers, consumers and grants.

Idempotent: a second run updates what the first made (a restart keeps the demo key).
"""

from __future__ import annotations

import json as json_module
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
import jwt
import yaml

from mcpgw import localstate
from mcpgw.devcluster import LaunchError

if TYPE_CHECKING:
    from mcpgw.launcher import Config

DEMO_SERVER = "demo"
SECURE_SERVER = "demo-secure"
HOSTED_SERVER = "demo-hosted"
ASSEMBLED_SERVER = "demo-all"
# The service (an upstream's address) through which `demo-hosted` reaches the demo MCP server.
DEMO_MCP_SERVICE = "demo-mcp"
DEMO_CONSUMER = "demo-user"
JWT_CONSUMER = "demo-jwt-user"
JWT_ISSUER = "mcpgw-demo"
JWT_LIFETIME = 24 * 3600
ADMIN_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)


@dataclass
class Demo:
    backend_url: str = ""
    # The demo MCP server's own Streamable HTTP endpoint (what demo-hosted relays to).
    mcp_url: str = ""
    api_key: str = ""
    key_rotated: bool = False
    # A JWT of the JWT consumer, signed on this run (valid for JWT_LIFETIME) with the secret kept in
    # the run directory.
    jwt: str = ""
    # The JWT secret file was made on this run while the consumer existed (a store that outlived a
    # reset): tokens signed before no longer verify.
    jwt_secret_rotated: bool = False
    server_ids: dict[str, str] = field(default_factory=dict)


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code


class Admin:
    """Just enough of the admin API (`/v1/...`, envelope `{code, message, data}`) for the demo."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str = "") -> None:
        self.http = http
        self.base = base
        self.token = token

    async def call(self, method: str, path: str, *, json: Any = None, text: str | None = None,
                   content_type: str | None = None, params: Mapping[str, str] | None = None) -> Any:
        headers = {"Content-Type": content_type} if content_type else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            async with self.http.request(method, self.base + path, json=json, data=text, headers=headers,
                                         params=params) as resp:
                raw = await resp.read()
                try:
                    body = json_module.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                if not isinstance(body, dict):
                    body = {}
                if resp.status >= 400 or body.get("code", "Ok") != "Ok":
                    raise AdminError(resp.status, str(body.get("code", "?")),
                                     str(body.get("message") or raw[:300].decode(errors="replace")))
                return body.get("data")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise LaunchError(f"admin API {method} {path} failed: {exc or type(exc).__name__}") from None

    async def find(self, collection: str, name: str, id_field: str) -> str | None:
        """The id of the item of `collection` named exactly `name`, if there is one."""
        number = 1
        while True:
            data = await self.call("GET", f"/v1/{collection}",
                                   params={"nameLike": name, "pageSize": "100", "pageNumber": str(number)})
            items = (data or {}).get("items") or []
            for item in items:
                if item.get("name") == name:
                    return str(item[id_field])
            total = int((data or {}).get("totalSize") or 0)
            if not items or number * 100 >= total:
                return None
            number += 1


def render_tools(template: dict[str, Any], server_name: str, base_url: str) -> str:
    document = dict(template)
    server = dict(document.get("server") or {})
    server["name"] = server_name
    server["config"] = {**(server.get("config") or {}), "baseUrl": base_url}
    document["server"] = server
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


async def ensure_server(admin: Admin, name: str, description: str, consumer_auth: bool, tools_yaml: str) -> str:
    """Create the REST server or bring an existing one to the demo's state; then upload its tools."""
    server_id = await ensure_mcp_server(admin, name, {
        "description": description,
        "type": "RealMCP",
        "protocol": "HTTP",
        "consumerAuthInfo": {"enable": consumer_auth},
    })
    await admin.call("PUT", f"/v1/mcp-servers/{server_id}/tools", text=tools_yaml, content_type="application/yaml")
    return server_id


async def ensure_mcp_server(admin: Admin, name: str, fields: dict[str, Any]) -> str:
    """Create the MCP server `name` with `fields`, or update the one that exists to them; its id."""
    found = await admin.find("mcp-servers", name, "mcpServerId")
    if found is None:
        try:
            data = await admin.call("POST", "/v1/mcp-servers", json={"name": name, **fields})
        except AdminError as exc:  # 409: created meanwhile by someone else
            found = await admin.find("mcp-servers", name, "mcpServerId") if exc.status == 409 else None
            if found is None:
                raise
    if found is None:
        return str(data["mcpServerId"])
    await admin.call("PUT", f"/v1/mcp-servers/{found}", json=fields)
    return found


async def ensure_service(admin: Admin, name: str, address: str) -> str:
    """A VIP service `name` at `address` (host:port), created or moved there; its id."""
    data = await admin.call("GET", "/v1/services", params={"name": name, "pageSize": "100"})
    for item in (data or {}).get("items") or []:
        if item.get("name") == name:
            service_id = str(item["serviceId"])
            if item.get("addresses") != [address]:
                await admin.call("PUT", f"/v1/services/{service_id}", json={"addresses": [address]})
            return service_id
    data = await admin.call("POST", "/v1/services", json={
        "sourceType": "VIP", "serviceConfigs": [{"name": name, "addresses": [address]}]})
    return str(data["serviceIds"][0])


async def ensure_hosted(admin: Admin, name: str, service_id: str, path: str) -> str:
    """A hosted server relaying to the Streamable HTTP MCP server at `path` of the service."""
    return await ensure_mcp_server(admin, name, {
        "description": "The demo MCP server (demo/mcp_server.py), hosted by mcpgw: progress and elicitation",
        "type": "RealMCP",
        "createFromType": "ApiGatewayMcpHosting",
        "protocol": "StreamableHTTP",
        "exposedUriPath": path,
        "backendConfig": {"scene": "SingleService", "services": [{"serviceId": service_id, "weight": 100}]},
        "consumerAuthInfo": {"enable": False},
    })


async def ensure_assembly(admin: Admin, name: str, source_ids: list[str]) -> str:
    """A server assembled from every tool of each source server."""
    return await ensure_mcp_server(admin, name, {
        "description": "The REST demo and the hosted demo MCP server assembled into one server",
        "type": "AssemblyMCP",
        "createFromType": "ApiGatewayAssembly",
        "assembledSources": [{"mcpServerId": source, "tools": []} for source in source_ids],
        "consumerAuthInfo": {"enable": False},
    })


async def ensure_consumer(admin: Admin, name: str, key: str) -> tuple[str, bool]:
    """(consumer id, whether it existed): the consumer, enabled, with `key` as its only API key. The
    registry keeps only a key's digest, so the launcher keeps the plaintext (`.run/demo-user.key`)
    and sets it again on every run: the key stays the same across restarts."""
    body = {
        "description": "created by the mcpgw launcher for the demo",
        "enable": True,
        "apikeyIdentityConfig": {"type": "Apikey", "apikeySource": {"source": "Default"},
                                 "credentials": [{"generateMode": "Custom", "apikey": key}]},
    }
    consumer_id = await admin.find("consumers", name, "consumerId")
    if consumer_id is None:
        data = await admin.call("POST", "/v1/consumers", json={"name": name, **body})
        return str(data["consumerId"]), False
    await admin.call("PUT", f"/v1/consumers/{consumer_id}", json=body)
    return consumer_id, True


async def ensure_jwt_consumer(admin: Admin, name: str, audience: str, secret: str) -> tuple[str, str, bool]:
    """(consumer id, a JWT for it, whether the consumer existed), the consumer set to verify with
    `secret` (kept in `.run/demo-jwt.secret`: the same on every run, so tokens signed on an earlier
    run still verify). The secret never leaves the launcher except into the registry; only a token
    signed with it is printed."""
    body = {
        "description": "created by the mcpgw launcher to show JWT authentication",
        "enable": True,
        "jwtIdentityConfig": {"type": "Jwt", "secretType": "Symmetry", "jwks": secret, "issuer": JWT_ISSUER,
                              "audience": audience,
                              "jwtPayloadConfig": {"payloadKeyName": "sub", "payloadKeyValue": name}},
    }
    consumer_id = await admin.find("consumers", name, "consumerId")
    existed = consumer_id is not None
    if consumer_id is None:
        data = await admin.call("POST", "/v1/consumers", json={"name": name, **body})
        consumer_id = str(data["consumerId"])
    else:
        await admin.call("PUT", f"/v1/consumers/{consumer_id}", json=body)
    now = int(time.time())
    token = jwt.encode({"iss": JWT_ISSUER, "aud": audience, "sub": name, "iat": now, "exp": now + JWT_LIFETIME},
                       secret, algorithm="HS256")
    return consumer_id, token, existed


async def ensure_grant(admin: Admin, consumer_id: str, server_id: str) -> None:
    """A server-level authorization rule for the consumer, unless it has one already."""
    data = await admin.call("GET", "/v1/authorization-rules",
                            params={"consumerId": consumer_id, "resourceId": server_id, "pageSize": "100"})
    for item in (data or {}).get("items") or []:
        if "resources" not in (item.get("resourceIdentifier") or {}) and item.get("expireMode") == "LongTerm":
            return
    await admin.call("POST", "/v1/authorization-rules", json={"authorizationRules": [
        {"consumerId": consumer_id, "resourceType": "MCP", "resourceIdentifier": {"resourceId": server_id},
         "expireMode": "LongTerm"}]})


async def configure_demo(config: Config, backend_url: str, mcp_url: str) -> Demo:
    template = yaml.safe_load((config.root / "demo" / "tools.yaml").read_text())
    demo = Demo(backend_url=backend_url, mcp_url=mcp_url)
    try:
        demo.api_key, new_key = localstate.demo_key(config.state_dir)
        jwt_secret, new_secret = localstate.demo_jwt_secret(config.state_dir)
    except OSError as exc:
        raise LaunchError(f"cannot keep the demo secrets in {config.state_dir}: {exc.strerror or exc}") from None
    async with aiohttp.ClientSession(timeout=ADMIN_TIMEOUT) as http:
        admin = Admin(http, config.admin_url, config.admin_token)
        try:
            demo.server_ids[DEMO_SERVER] = await ensure_server(
                admin, DEMO_SERVER, "The mcpgw demo: a pet store REST API as MCP tools", False,
                render_tools(template, DEMO_SERVER, backend_url))
            demo.server_ids[SECURE_SERVER] = await ensure_server(
                admin, SECURE_SERVER, "The same demo tools, for consumers with an API key only", True,
                render_tools(template, SECURE_SERVER, backend_url))
            consumer_id, existed = await ensure_consumer(admin, DEMO_CONSUMER, demo.api_key)
            # A consumer from before the key file (NATS_URL names a store that outlived a reset).
            demo.key_rotated = existed and new_key
            jwt_consumer_id, demo.jwt, jwt_existed = await ensure_jwt_consumer(admin, JWT_CONSUMER, JWT_ISSUER,
                                                                               jwt_secret)
            demo.jwt_secret_rotated = jwt_existed and new_secret
            for granted in (consumer_id, jwt_consumer_id):
                await ensure_grant(admin, granted, demo.server_ids[SECURE_SERVER])
        except AdminError as exc:
            raise LaunchError(f"configuring the demo through the admin API failed: {exc}") from None
        await configure_hosted_demo(admin, demo)
    return demo


async def configure_hosted_demo(admin: Admin, demo: Demo) -> None:
    """The demo MCP server as a service, hosted as `demo-hosted`, and assembled with `demo`."""
    origin, _, path = demo.mcp_url.partition("://")[2].partition("/")
    step = f"the service {DEMO_MCP_SERVICE!r} for the demo MCP server at {origin}"
    try:
        service_id = await ensure_service(admin, DEMO_MCP_SERVICE, origin)
        step = f"the hosted server {HOSTED_SERVER!r}"
        demo.server_ids[HOSTED_SERVER] = await ensure_hosted(admin, HOSTED_SERVER, service_id, "/" + path)
        step = f"the assembled server {ASSEMBLED_SERVER!r} (from {DEMO_SERVER!r} and {HOSTED_SERVER!r})"
        demo.server_ids[ASSEMBLED_SERVER] = await ensure_assembly(
            admin, ASSEMBLED_SERVER, [demo.server_ids[DEMO_SERVER], demo.server_ids[HOSTED_SERVER]])
    except AdminError as exc:
        raise LaunchError(f"creating {step} through the admin API failed: {exc}") from None


