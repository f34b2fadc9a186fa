from __future__ import annotations

from mcpgw.runtime.settings import StatsSettings, load_settings


class ToolexecSettings(StatsSettings, kw_only=True):
    backend_timeout: float = 30.0
    backend_connect_timeout: float = 5.0
    # Connections kept per backend host by the pooled client.
    max_connections_per_host: int = 100
    # A PEM file of CA certificates trusted for https backends in addition to the system's
    # (a private CA, or a test's self-signed certificate). Empty: the system store alone.
    backend_ca_file: str = ""
    # Passive health of backendConfig addresses: after this many connection failures in a row
    # (refused, connect timeout) an address is left out for `backend_eject_seconds`.
    backend_eject_after: int = 3
    backend_eject_seconds: float = 10.0
    max_inflight: int = 1024
    max_response_bytes: int = 8 * 1024 * 1024
    # How much of a failing backend's body an isError result quotes.
    error_excerpt_bytes: int = 1024


def load() -> ToolexecSettings:
    return load_settings(ToolexecSettings, "toolexec")
