"""OAuth 2.0 Protected Resource Metadata (RFC 9728) for each MCP endpoint, and the 401 challenge.

MCP clients that get a 401 read `resource_metadata` from `WWW-Authenticate` (or try the
well-known path) to learn how to obtain a token. The document lives at the path-inserted form,
`/.well-known/oauth-protected-resource/mcp-servers/<name>`.
"""

from __future__ import annotations

import msgspec

from mcpgw_edge.http import Request
from mcpgw_edge.servers import ServerEntry

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def base_url(request: Request, public_url: str) -> str:
    if public_url:
        return public_url.rstrip("/")
    return f"{request.scheme}://{request.host}"


def resource_uri(request: Request, public_url: str, name: str) -> str:
    return f"{base_url(request, public_url)}/mcp-servers/{name}"


def metadata_url(request: Request, public_url: str, name: str) -> str:
    return f"{base_url(request, public_url)}{WELL_KNOWN}/mcp-servers/{name}"


def challenge(request: Request, public_url: str, name: str, error: str | None) -> str:
    """`WWW-Authenticate` for a 401: where the metadata is, and why the credential failed."""
    parts = []
    if error:
        parts.append(f'error="{error}"')
    parts.append(f'resource_metadata="{metadata_url(request, public_url, name)}"')
    return "Bearer " + ", ".join(parts)


def document(request: Request, public_url: str, entry: ServerEntry) -> bytes:
    snapshot = entry.snapshot
    return msgspec.json.encode({
        "resource": resource_uri(request, public_url, snapshot.name),
        "authorization_servers": snapshot.authorization_servers,
        "bearer_methods_supported": ["header"],
        "resource_name": snapshot.name,
    })
