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


def load() -> AuthSettings:
    return load_settings(AuthSettings, "auth")
