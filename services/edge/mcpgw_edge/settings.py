from __future__ import annotations

from mcpgw.runtime.settings import StatsSettings, load_settings


class EdgeSettings(StatsSettings, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8080
    # Several edge processes on one port (SO_REUSEPORT: the kernel spreads connections over them),
    # so one of them can die or restart while the others keep serving.
    reuse_port: bool = False
    # Idle sessions expire after this many seconds; activity refreshes the TTL (batched).
    session_ttl: int = 3600
    # Origins allowed besides loopback ones and the request's own host, e.g. https://console.example.
    allowed_origins: list[str] = []
    # Extra Host header values accepted when bound to loopback (DNS-rebinding protection).
    allowed_hosts: list[str] = []
    sse_keepalive: float = 15.0
    # A client must send its whole request body within this many seconds (slow-loris bound); an SSE
    # client that does not take an event within it loses the stream.
    client_io_timeout: float = 30.0
    max_body_bytes: int = 4 * 1024 * 1024
    # Request line and headers together (431 beyond).
    max_header_bytes: int = 32 * 1024
    # An HTTP connection with no request under way is closed after this many seconds.
    keepalive_timeout: float = 75.0
    # Upper bound on one tools/call, end to end.
    tool_call_timeout: float = 60.0
    # A request relayed to a hosted server waits at most this long for its answer or for the next
    # message of its stream (progress keeps it alive); above hosting's own upstream timeout, so the
    # client hears what failed rather than a bare timeout.
    upstream_timeout: float = 130.0
    # A relayed request's SSE events are kept this many seconds after the last one, for a client
    # that resumes the stream with Last-Event-ID (2025-11-25).
    resume_ttl: int = 300
    # How long a cached auth decision may live without an invalidating event.
    auth_cache_ttl: float = 300.0
    tools_page_size: int = 1000
    # 2026-07-28 list results' `ttlMs`: how long a client may cache a tools list (list_changed still
    # tells it sooner).
    list_ttl_ms: int = 60_000
    # The externally visible base URL (e.g. https://mcp.example.com) used in protected-resource
    # metadata; empty: derived from each request's scheme and Host.
    public_url: str = ""


def load() -> EdgeSettings:
    return load_settings(EdgeSettings, "edge")
