"""The admin API's bearer token: required on every route but /healthz; no token only on loopback."""

from __future__ import annotations

import asyncio
import os
import sys

import aiohttp
import msgspec
import pytest
from mcpgw_registry.http.admin_auth import check_settings, is_loopback
from mcpgw_registry.service import RegistryService
from mcpgw_registry.settings import RegistrySettings

from mcpgw.runtime.settings import SettingsError, load_settings
from tests.registry.conftest import ADMIN_TOKEN, settings_for


async def test_every_admin_route_needs_the_token(registry: RegistryService) -> None:
    base = f"http://127.0.0.1:{registry.port}"
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=10)) as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN_TOKEN},
                        {"Authorization": f"Basic {ADMIN_TOKEN}"}, {"Authorization": f"Bearer {ADMIN_TOKEN}x"}):
            for method, path in (("GET", "/v1/mcp-servers"), ("POST", "/v1/consumers"),
                                 ("GET", "/v1/authorization-rules"), ("GET", "/v1/nothing-here")):
                async with http.request(method, path, headers=headers, json={"name": "x"}) as resp:
                    assert resp.status == 401, (headers, path)
                    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
                    body = await resp.json()
                    assert body["code"] == "Unauthorized" and body["requestId"]
                    assert ADMIN_TOKEN not in body["message"]
        async with http.get("/v1/mcp-servers", headers={"Authorization": f"bearer {ADMIN_TOKEN}"}) as resp:
            assert resp.status == 200
        async with http.get("/healthz") as resp:
            assert resp.status == 200


def test_no_token_is_only_allowed_on_loopback(caplog: pytest.LogCaptureFixture) -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.1.2.3", "example.com", ""))
    check_settings("", "127.0.0.1")
    assert "no admin token set" in caplog.text
    check_settings("t", "0.0.0.0")
    with pytest.raises(SettingsError, match="MCPGW_ADMIN_TOKEN"):
        check_settings("", "0.0.0.0")


async def test_an_open_registry_refuses_to_start_on_all_interfaces(nats_url: str, root: str) -> None:
    settings = msgspec.structs.replace(settings_for(nats_url, root), admin_token="", host="0.0.0.0")
    with pytest.raises(SettingsError):
        await RegistryService(settings).start()


def test_the_token_comes_from_either_variable() -> None:
    both = {"MCPGW_ADMIN_TOKEN": "cluster", "MCPGW_REGISTRY_ADMIN_TOKEN": "own"}
    assert load_settings(RegistrySettings, "registry", both).admin_token == "own"
    assert load_settings(RegistrySettings, "registry", {"MCPGW_ADMIN_TOKEN": "cluster"}).admin_token == "cluster"


async def test_the_module_exits_with_a_settings_error(nats_url: str) -> None:
    env = {**os.environ, "MCPGW_NATS_URL": nats_url, "MCPGW_REGISTRY_HOST": "0.0.0.0", "MCPGW_REGISTRY_PORT": "0"}
    for name in ("MCPGW_ADMIN_TOKEN", "MCPGW_REGISTRY_ADMIN_TOKEN"):
        env.pop(name, None)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "mcpgw_registry", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, out
    assert b"without a token: set MCPGW_ADMIN_TOKEN" in out
