"""A registry started in-process per test, on the session's nats-server, under the test's own root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from mcpgw_registry.service import RegistryService
from mcpgw_registry.settings import RegistrySettings

from mcpgw.runtime.bus import Bus

# Every registry of these tests requires this admin token, so every test exercises the protected API.
ADMIN_TOKEN = "test-admin-token-0123456789"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any

    @property
    def data(self) -> Any:
        return self.body["data"]

    @property
    def message(self) -> str:
        return str(self.body["message"])


class Api:
    """A thin client of the admin API; `call` returns status, decoded JSON body and headers."""

    def __init__(self, session: aiohttp.ClientSession, service: RegistryService) -> None:
        self.session = session
        self.service = service

    async def call(self, method: str, path: str, *, json: Any = None, data: bytes | str | None = None,
                   headers: dict[str, str] | None = None) -> Reply:
        headers = {**ADMIN_HEADERS, **(headers or {})}
        async with self.session.request(method, path, json=json, data=data, headers=headers) as resp:
            if resp.content_type == "application/json":
                body = await resp.json()
            else:
                body = await resp.text()
            return Reply(resp.status, body, resp.headers)

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = await self.call(method, path, **kwargs)
        assert reply.status == 200, reply.body
        assert reply.body["code"] == "Ok" and reply.body["message"] == "success"
        return reply.body.get("data")

    async def create_server(self, name: str, **fields: Any) -> str:
        data = await self.ok("POST", "/v1/mcp-servers", json={"name": name, **fields})
        return str(data["mcpServerId"])

    async def create_service(self, name: str, *addresses: str, source_type: str = "DNS", **fields: Any) -> str:
        config = {"name": name, "addresses": list(addresses) or ["upstream.test:8080"], **fields}
        data = await self.ok("POST", "/v1/services", json={"sourceType": source_type, "serviceConfigs": [config]})
        return str(data["serviceIds"][0])


def settings_for(nats_url: str, root: str, redis_url: str = "redis://127.0.0.1:1/0") -> RegistrySettings:
    """Without a Redis URL, the statistics endpoint answers 503 (nothing listens on port 1)."""
    return RegistrySettings(nats_url=nats_url, redis_url=redis_url, subject_root=root, port=0,
                            kv_bucket=f"cfg-{root}", request_timeout=5.0, admin_token=ADMIN_TOKEN)


@pytest.fixture
async def registry(nats_url: str, redis_url: str, root: str) -> AsyncIterator[RegistryService]:
    service = RegistryService(settings_for(nats_url, root, redis_url))
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def api(registry: RegistryService) -> AsyncIterator[Api]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{registry.port}", timeout=timeout) as session:
        yield Api(session, registry)


@pytest.fixture
async def bus(nats_url: str, root: str) -> AsyncIterator[Bus]:
    client = await Bus.connect(nats_url, name="registry-test", root=root)
    yield client
    await client.close()
