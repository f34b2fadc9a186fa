"""A whole mcpgw cluster in the test process: registry, auth, toolexec, hosting and one or more edges.

The services run in-process (fast start, one event loop) but talk only through the real NATS
and Redis of the session fixtures, exactly as separate processes would.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec
from mcpgw_auth.service import AuthService
from mcpgw_auth.settings import AuthSettings
from mcpgw_edge.service import EdgeService
from mcpgw_edge.settings import EdgeSettings
from mcpgw_hosting.service import HostingService
from mcpgw_hosting.settings import HostingSettings
from mcpgw_registry.service import RegistryService
from mcpgw_registry.settings import RegistrySettings
from mcpgw_toolexec.service import ToolexecService
from mcpgw_toolexec.settings import ToolexecSettings

TIMEOUT = aiohttp.ClientTimeout(total=15)
# The registry of every test cluster requires it, so every test exercises the protected admin API.
ADMIN_TOKEN = "cluster-admin-token-0123456789"


@dataclass
class Cluster:
    nats_url: str
    redis_url: str
    root: str
    registry: RegistryService
    auth: AuthService
    toolexec: ToolexecService
    hosting: HostingService
    edges: list[EdgeService] = field(default_factory=list)
    edge_overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.registry.port}"

    def edge_url(self, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.edges[index].port}"

    def mcp_url(self, server: str, index: int = 0) -> str:
        return f"{self.edge_url(index)}/mcp-servers/{server}"

    def edge_settings(self, port: int = 0) -> EdgeSettings:
        return EdgeSettings(nats_url=self.nats_url, redis_url=self.redis_url, subject_root=self.root, port=port,
                            **self.edge_overrides)

    async def add_edge(self, port: int = 0) -> EdgeService:
        edge = EdgeService(self.edge_settings(port))
        await edge.start()
        self.edges.append(edge)
        return edge

    async def restart_edge(self, index: int = 0, **overrides: Any) -> EdgeService:
        """Stop an edge and start a fresh one (new process state) on the same port; `overrides`
        change edge settings from then on."""
        self.edge_overrides.update(overrides)
        old = self.edges[index]
        await old.stop()
        new = EdgeService(self.edge_settings(old.port))
        await new.start()
        self.edges[index] = new
        return new

    async def restart_hosting(self, **overrides: Any) -> HostingService:
        """Stop the hosting worker and start a fresh one (nothing in memory); `overrides` change its settings."""
        await self.hosting.stop()
        settings = msgspec.structs.replace(self.hosting.settings, **overrides)
        self.hosting = HostingService(settings)
        await self.hosting.start()
        return self.hosting

    async def admin(self, method: str, path: str, *, json: Any = None, data: str | bytes | None = None,
                    content_type: str | None = None, token: str | None = ADMIN_TOKEN) -> tuple[int, Any]:
        headers = {"Content-Type": content_type} if content_type else {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http, http.request(
                method, self.admin_url + path, json=json, data=data, headers=headers) as resp:
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.text()

    async def create_server(self, name: str, tools_yaml: str | None = None, **fields: Any) -> str:
        status, body = await self.admin("POST", "/v1/mcp-servers", json={"name": name, **fields})
        assert status == 200, body
        server_id: str = body["data"]["mcpServerId"]
        if tools_yaml is not None:
            status, body = await self.admin("PUT", f"/v1/mcp-servers/{server_id}/tools", data=tools_yaml,
                                            content_type="application/yaml")
            assert status == 200, body
        return server_id

    async def create_service(self, address: str, *, protocol: str = "HTTP", name: str = "upstream") -> str:
        """A VIP service at `address` (host:port); its id."""
        status, body = await self.admin("POST", "/v1/services", json={
            "sourceType": "VIP", "serviceConfigs": [{"name": name, "addresses": [address]}]})
        assert status == 200, body
        service_id: str = body["data"]["serviceIds"][0]
        if protocol != "HTTP":
            status, body = await self.admin("PUT", f"/v1/services/{service_id}", json={"protocol": protocol})
            assert status == 200, body
        return service_id

    async def host(self, name: str, url: str, *, transport: str = "StreamableHTTP", **fields: Any) -> str:
        """A hosted server for the MCP server at `url` (its service created on the way); its id."""
        origin, _, path = url.partition("://")[2].partition("/")
        service_id = await self.create_service(origin, name=f"{name}-upstream")
        return await self.create_server(name, type="RealMCP", createFromType="ApiGatewayMcpHosting",
                                        protocol=transport, exposedUriPath="/" + path,
                                        backendConfig={"scene": "SingleService",
                                                       "services": [{"serviceId": service_id, "weight": 100}]},
                                        **fields)

    async def create_consumer(self, name: str, **fields: Any) -> tuple[str, str]:
        """A consumer with one system-generated API key: (consumer id, the key)."""
        payload = {"name": name, "apikeyIdentityConfig": {
            "type": "Apikey", "apikeySource": {"source": "Default"},
            "credentials": [{"generateMode": "System"}]}, **fields}
        status, body = await self.admin("POST", "/v1/consumers", json=payload)
        assert status == 200, body
        data = body["data"]
        return data["consumerId"], data["apikeyIdentityConfig"]["credentials"][0]["apikey"]

    async def grant(self, consumer_id: str, server_id: str, tools: list[str] | None = None) -> str:
        """An authorization rule: the consumer may use the server (or only `tools` of it); its id."""
        identifier: dict[str, Any] = {"resourceId": server_id}
        if tools is not None:
            identifier["resources"] = tools
        status, body = await self.admin("POST", "/v1/authorization-rules", json={"authorizationRules": [
            {"consumerId": consumer_id, "resourceType": "MCP", "resourceIdentifier": identifier,
             "expireMode": "LongTerm"}]})
        assert status == 200, body
        rule_id: str = body["data"]["consumerAuthorizationRuleIds"][0]
        return rule_id

    async def stop(self) -> None:
        for edge in self.edges:
            await edge.stop()
        for service in (self.hosting, self.toolexec, self.auth, self.registry):
            await service.stop()


def decode_config(server: dict[str, Any]) -> str:
    return base64.b64decode(server["mcpServerConfig"]).decode()


@asynccontextmanager
async def running_cluster(nats_url: str, redis_url: str, root: str, *, edges: int = 1,
                          **edge_overrides: Any) -> AsyncIterator[Cluster]:
    registry = RegistryService(RegistrySettings(nats_url=nats_url, redis_url=redis_url, subject_root=root, port=0,
                                                kv_bucket=f"cfg-{root}", admin_token=ADMIN_TOKEN))
    auth = AuthService(AuthSettings(nats_url=nats_url, subject_root=root))
    toolexec = ToolexecService(ToolexecSettings(nats_url=nats_url, redis_url=redis_url, subject_root=root,
                                                backend_timeout=5.0))
    # Every hosting replica of a cluster shares the key sealing bridged calls' requestState.
    state_key = base64.b64encode(os.urandom(32)).decode()
    hosting = HostingService(HostingSettings(nats_url=nats_url, redis_url=redis_url, subject_root=root,
                                             upstream_timeout=10.0, describe_ttl=1.0, state_key=state_key))
    cluster = Cluster(nats_url, redis_url, root, registry, auth, toolexec, hosting, edge_overrides=edge_overrides)
    started: list[Any] = []
    try:
        for service in (registry, auth, toolexec, hosting):
            await service.start()
            started.append(service)
        for _ in range(edges):
            await cluster.add_edge()
        yield cluster
    finally:
        for edge in cluster.edges:
            await edge.stop()
        for service in reversed(started):
            # A restarted hosting worker is the cluster's now: stop that one.
            await (cluster.hosting if service is hosting else service).stop()
