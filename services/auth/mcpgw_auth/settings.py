from __future__ import annotations

from mcpgw.runtime.settings import CommonSettings, load_settings


class AuthSettings(CommonSettings, kw_only=True):
    max_inflight: int = 1024
    # How long to wait for the registry's consumer index. Kept below the edge's wait for a verify
    # answer, so a slow registry yields "consumer directory unavailable" rather than a timeout.
    registry_timeout: float = 2.0
    # Reload the index in the background when it is older than this many seconds (0: never),
    # a safety net should a change event be lost while NATS reconnects.
    index_max_age: float = 300.0
    # Remote JWKS fetches: bounded in time and size so a slow or hostile IdP cannot stall us.
    jwks_connect_timeout: float = 2.0
    jwks_timeout: float = 5.0
    jwks_max_bytes: int = 1 << 20
    # A token with an unknown `kid` forces a JWKS fetch at most this often per URL.
    jwks_min_refresh_interval: float = 30.0
    # How long a verify waits for a JWKS fetch in flight (registry wait + this < the edge's wait).
    jwks_wait: float = 2.5


def load() -> AuthSettings:
    return load_settings(AuthSettings, "auth")
