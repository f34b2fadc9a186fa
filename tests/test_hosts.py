"""`mcpgw.hosts`: the one rule for what counts as the same host (registry names, edge Host headers)."""

from __future__ import annotations

import pytest

from mcpgw.hosts import canonical_host


@pytest.mark.parametrize("given,canonical", [
    ("api.example.com", "api.example.com"),
    ("API.Example.COM", "api.example.com"),
    ("api.example.com:8443", "api.example.com"),
    ("api.example.com.", "api.example.com"),
    ("api.example.com.:80", "api.example.com"),
    ("[::1]:8080", "[::1]"),
    ("[::1]", "[::1]"),
    ("127.0.0.1:80", "127.0.0.1"),
    (" api.example.com ", "api.example.com"),
])
def test_canonical_host(given: str, canonical: str) -> None:
    assert canonical_host(given) == canonical
