"""Origin validation (403) and, when bound to loopback, Host validation (421): DNS-rebinding defence."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _hostname(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback_host(host: str) -> bool:
    name = _hostname(host)
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


class OriginPolicy:
    def __init__(self, bind_host: str, allowed_origins: list[str], allowed_hosts: list[str]) -> None:
        self._origins = {o.rstrip("/").lower() for o in allowed_origins}
        self._hosts = {h.lower() for h in allowed_hosts}
        self._check_host = is_loopback_host(bind_host)
        # Verdicts by Host value: clients send the same few values on every request.
        self._host_verdicts: dict[str, bool] = {}

    def host_ok(self, host: str | None) -> bool:
        """A server bound to loopback only answers requests addressed to a loopback name."""
        if not self._check_host:
            return True
        if not host:
            return False
        verdict = self._host_verdicts.get(host)
        if verdict is None:
            verdict = is_loopback_host(host) or host.lower() in self._hosts or _hostname(host) in self._hosts
            if len(self._host_verdicts) < 1024:  # bounded: Host is the client's to choose
                self._host_verdicts[host] = verdict
        return verdict

    def origin_ok(self, origin: str | None, host: str | None) -> bool:
        """No Origin (non-browser clients) is fine; a browser's Origin must be ours or allowed."""
        if origin is None:
            return True
        origin = origin.strip().rstrip("/").lower()
        if origin in self._origins or "*" in self._origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        if is_loopback_host(parts.netloc):
            return True
        return host is not None and parts.netloc == host.strip().lower()
