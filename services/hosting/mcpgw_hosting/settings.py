from __future__ import annotations

from mcpgw.runtime.settings import StatsSettings, load_settings


class HostingSettings(StatsSettings, kw_only=True):
    # One upstream request, from sending it to its last byte, waits at most this long for the
    # next byte (a tool that reports progress, or waits for a user's elicitation answer, lives on).
    upstream_timeout: float = 120.0
    upstream_connect_timeout: float = 5.0
    # Passive health of upstream addresses (as toolexec's `backend_eject_*`): after this many
    # connection failures in a row an address is left out for `upstream_eject_seconds`.
    upstream_eject_after: int = 3
    upstream_eject_seconds: float = 10.0
    # Connections kept per upstream address by the pooled client.
    max_connections_per_host: int = 256
    # How long what an upstream says at initialize (capabilities, serverInfo) is reused for
    # other clients' initialize, and its tool names for the registry's assembly checks.
    describe_ttl: float = 60.0
    # An upstream that cannot answer `initialize` (and, for the registry, `tools/list`) within this
    # long is reported unavailable: a client's own initialize waits on it.
    describe_timeout: float = 10.0
    # How long an upstream session id is kept in Redis after its last use.
    session_ttl: int = 3600
    max_inflight: int = 4096
    # The key (base64, 32 bytes) sealing the requestState the gateway issues when it bridges a
    # 2026-07-28 client to a handshake-era upstream. Every replica needs the same one; empty: a
    # random key per process (one replica only).
    state_key: str = ""
    # How long such a bridged call waits for the client's retry with its answers.
    held_call_timeout: float = 300.0
    # A single upstream message larger than this is refused (the NATS payload bounds it anyway).
    max_message_bytes: int = 8 * 1024 * 1024


def load() -> HostingSettings:
    return load_settings(HostingSettings, "hosting")
