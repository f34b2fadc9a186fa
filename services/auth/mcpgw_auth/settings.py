from __future__ import annotations

from mcpgw.runtime.settings import CommonSettings, load_settings


class AuthSettings(CommonSettings, kw_only=True):
    max_inflight: int = 1024


def load() -> AuthSettings:
    return load_settings(AuthSettings, "auth")
