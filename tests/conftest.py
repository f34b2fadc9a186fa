"""Session fixtures: a real nats-server (JetStream) and a real redis-server on free ports."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from mcpgw.devcluster import free_port, start_nats, start_redis
from tests.backends import Backend, run_backend
from tests.cluster import Cluster, running_cluster
from tests.conformance import conformance_binary
from tests.upstream.raw_server import RawUpstream, running_raw_upstream


@pytest.fixture(scope="session")
async def nats_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    port = free_port()
    proc = await start_nats(port, str(tmp_path_factory.mktemp("jetstream")))
    yield f"nats://127.0.0.1:{port}"
    await proc.stop()


@pytest.fixture(scope="session")
async def redis_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    port = free_port()
    proc = await start_redis(port, workdir=str(tmp_path_factory.mktemp("redis")))
    yield f"redis://127.0.0.1:{port}/0"
    await proc.stop()


@pytest.fixture
def root() -> str:
    """A subject root (and Redis key prefix) of this test's own, so tests cannot see each other."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    async with run_backend() as b:
        yield b


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client for raw requests to the gateway and its upstreams."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def upstream() -> AsyncIterator[RawUpstream]:
    """A hand-written upstream MCP server that records what reaches it (tests/upstream/raw_server.py)."""
    async with running_raw_upstream() as running:
        yield running


@pytest.fixture
async def cluster(nats_url: str, redis_url: str, root: str) -> AsyncIterator[Cluster]:
    async with running_cluster(nats_url, redis_url, root) as c:
        yield c


@pytest.fixture(scope="session")
async def conformance() -> Path:
    """The official conformance suite's CLI, installed on first use (skips without Node/npm)."""
    return await conformance_binary()
