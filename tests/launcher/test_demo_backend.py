"""The demo REST backend, run as the launcher runs it: its own process, ready line, free port."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from mcpgw.devcluster import spawn_ready

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = aiohttp.ClientTimeout(total=10)


@pytest.fixture
async def backend_url() -> AsyncIterator[str]:
    proc = await spawn_ready("backend", [sys.executable, str(ROOT / "demo" / "backend.py"), "--port", "0"],
                             r"demo-backend ready on \S+")
    line = await proc.wait_for(r"demo-backend ready on \S+")
    try:
        yield line.split()[-1]
    finally:
        await proc.stop()
    assert proc.proc.returncode == 0, "\n".join(proc.lines)


async def test_demo_backend_answers(backend_url: str) -> None:
    async with aiohttp.ClientSession(base_url=backend_url, timeout=TIMEOUT) as http:
        async with http.get("/pets", params={"tag": "cat"}) as resp:
            assert resp.status == 200
            body = await resp.json()
            assert [p["name"] for p in body["pets"]] == ["Tom"]

        async with http.get("/pets/1", params={"details": "true"}) as resp:
            assert resp.status == 200
            pet = await resp.json()
            assert (pet["name"], pet["owner"]) == ("Rex", "demo")

        async with http.get("/pets/999") as resp:
            assert resp.status == 404
            assert "999" in (await resp.json())["error"]

        async with http.post("/pets", json={"name": "Luna", "tag": "cat", "age": 2}) as resp:
            assert resp.status == 201
            created = await resp.json()
            assert created == {"id": 4, "name": "Luna", "tag": "cat", "age": 2}
        async with http.get("/pets/4") as resp:
            assert (await resp.json())["name"] == "Luna"
        async with http.post("/pets", data=b"not json", headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 400

        async with http.get("/echo", params={"q": "a b"}, headers={"X-Demo-Trace": "t-1"}) as resp:
            echoed = await resp.json()
            assert (echoed["method"], echoed["path"], echoed["query"]) == ("GET", "/echo", {"q": "a b"})
            assert echoed["headers"]["X-Demo-Trace"] == "t-1"

        async with http.get("/fail") as resp:
            assert resp.status == 500
            assert "error" in await resp.json()

        async with http.get("/time") as resp:
            assert isinstance((await resp.json())["epoch"], int)
