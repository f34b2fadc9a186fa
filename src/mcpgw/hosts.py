"""What counts as the same host: the rule the registry stores domain names by and the edge compares
a request's `Host` with (lowercase, no port, no trailing dot)."""

from __future__ import annotations


def canonical_host(value: str) -> str:
    """`API.Example.com.:8443` -> `api.example.com`; `[::1]:80` -> `[::1]`."""
    host = value.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end >= 0 else host
    if host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")
