"""Rolling a server back: an earlier revision published again, as a new revision.

The restored record keeps the server's identity (id, name, gateway, creation time) and is
checked like any write (what it links to may have gone since). An imported server's rollback
keeps the tools it had but forgets the import: its generated part may be gone, so a later
import starts afresh.
"""

from __future__ import annotations

import asyncio

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw_registry.resources.servers.model import ServerRecord, validate_record
from mcpgw_registry.resources.tools.document import parse_tools
from mcpgw_registry.stores.servers import ServerRepository

FIELD = "revision"


async def rollback(servers: ServerRepository, server_id: str, n: int, now_ms: int) -> tuple[ServerRecord, int, int]:
    """Publish revision `n` of the server again; the record, its store revision, its new revision number."""
    current, revision = await servers.get(server_id)
    kept = await servers.revisions.get(server_id, n)
    if kept is None:
        raise McpgwError(ErrorCode.NOT_FOUND, f"{FIELD}: MCP server {current.name!r} keeps no revision {n}")
    old = kept.record
    restored = msgspec.structs.replace(
        old, id=current.id, name=current.name, gateway_id=current.gateway_id, created_ms=current.created_ms,
        updated_ms=now_ms, deploy_status="Deployed", overflow=None, imported=None, tools_secrets=None)
    validate_record(restored)
    await servers.hooks.prepare(restored, current)
    text = restored.tools_text if isinstance(restored.tools_text, str) else ""
    doc = await asyncio.to_thread(parse_tools, text, restored.tools_format, root=FIELD) if text else None
    draft = servers.compile(restored, doc, FIELD)
    new_revision = await servers.replace(draft, revision, current, rollback_of=n)
    published = (await servers.revisions.list(server_id))[0].n
    return restored, new_revision, published
