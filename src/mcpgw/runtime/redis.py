"""The one way a service opens Redis: every command and every connect is bounded by a timeout."""

from __future__ import annotations

import redis.asyncio as aioredis


def connect_redis(url: str, timeout: float) -> aioredis.Redis:
    """A lazy client (nothing is contacted here) whose connects and commands give up after ``timeout``."""
    return aioredis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
