"""Rolling a server back: an earlier revision published again, as a new revision.

The restored record keeps the server's identity (id, name, gateway, creation time), gets its
secrets back from the server's secret store (a revision holds only references), and is checked
like any publish (what it links to may have gone since; a refusal is the server's deploy failure,
as for a deploy). The draft, if any, is dropped: after a rollback the operator edits what is
served. An imported server's rollback keeps the tools it had but forgets the import: its
generated part may be gone, so a later import starts afresh.
"""

from __future__ import annotations

import asyncio

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.tools.document import parse_tools
from mcpgw_registry.stores import publishing
from mcpgw_registry.stores.servers import ServerRepository

FIELD = "revision"


async def rollback(servers: ServerRepository, server_id: str, n: int, now_ms: int) -> tuple[ServerRecord, int, int]:
    """Publish revision `n` of the server again; the record, its store revision, its new revision number."""
    editing = await servers.editing(server_id)
    current = editing.live
    kept = await servers.revisions.get(server_id, n)
    if kept is None:
        raise McpgwError(ErrorCode.NOT_FOUND, f"{FIELD}: MCP server {current.name!r} keeps no revision {n}")
    old = await servers.revisions.restore(kept, FIELD)
    restored = msgspec.structs.replace(
        old, id=current.id, name=current.name, gateway_id=current.gateway_id, created_ms=current.created_ms,
        updated_ms=now_ms, deploy_status="Deployed", overflow=None, imported=None, tools_secrets=None)
    text = restored.tools_text if isinstance(restored.tools_text, str) else ""
    doc = await asyncio.to_thread(parse_tools, text, restored.tools_format, root=FIELD) if text else None
    draft = await publishing.checked(servers, restored, doc, editing, now_ms, FIELD)
    new_revision = await publishing.publish(servers, draft, editing, now_ms, rollback_of=n)
    published = (await servers.revisions.list(server_id))[0].n
    return restored, new_revision, published
