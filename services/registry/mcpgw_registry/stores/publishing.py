"""Deploy and undeploy: publishing the draft, and no longer serving the published record.

Deploy publishes what the operator edits (the draft, else the record) as a new revision: it is
checked against what it names now (domains, services, sources may have changed since it was
saved) and compiled before anything is written, so the published record never changes unless
the whole publish succeeds. A deploy that cannot publish is a 400 naming the field, and the
server shows `DeployFailed` with that reason (`drafts.DeployFailure`) while the published record,
if any, keeps serving; a later publish or an undeploy clears it. Everything happens within the
request, so `Deploying` is never observed.
"""

from __future__ import annotations

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.contracts.tools import ToolsDocument
from mcpgw_registry.resources.servers.model import ServerRecord, validate_record
from mcpgw_registry.stores.drafts import failure_of
from mcpgw_registry.stores.servers import SPEC_FIELD, Draft, Editing, ServerRepository

# A publish refused for what it holds or names; a conflict or an outage is no failure of the draft.
_FAILURES = (ErrorCode.INVALID_PARAMETER, ErrorCode.PAYLOAD_TOO_LARGE)


async def publish(servers: ServerRepository, draft: Draft, editing: Editing, now_ms: int, *,
                  rollback_of: int | None = None) -> int:
    """`servers.save(publish=True)`, a refusal kept as the server's deploy failure."""
    try:
        return await servers.save(draft, editing, publish=True, rollback_of=rollback_of)
    except McpgwError as exc:
        if exc.code in _FAILURES:
            await servers.drafts.failed(editing.live.id, failure_of(exc, now_ms))
        raise


async def checked(servers: ServerRepository, record: ServerRecord, doc: ToolsDocument | None, editing: Editing,
                  now_ms: int, field: str = SPEC_FIELD) -> Draft:
    """`record` (whose tools are `doc`) checked and compiled for publishing, a refusal kept as the
    server's deploy failure."""
    try:
        validate_record(record)
        await servers.hooks.prepare(record, editing.live)
        return servers.compile(record, doc, field)
    except McpgwError as exc:
        if exc.code in _FAILURES:
            await servers.drafts.failed(editing.live.id, failure_of(exc, now_ms))
        raise


async def deploy(servers: ServerRepository, server_id: str, now_ms: int) -> tuple[ServerRecord, int]:
    """Publish the draft (or the saved record of an undeployed server) as a new revision."""
    editing = await servers.editing(server_id)
    if editing.draft_revision is None and editing.live.deploy_status == "Deployed":
        return editing.live, editing.revision  # nothing changes, so no change event either
    updated = msgspec.structs.replace(editing.record, deploy_status="Deployed", updated_ms=now_ms)
    draft = await checked(servers, updated, await servers.tools_document(updated), editing, now_ms)
    return updated, await publish(servers, draft, editing, now_ms)


async def undeploy(servers: ServerRepository, server_id: str, now_ms: int) -> tuple[ServerRecord, int]:
    """Stop serving the server (the edge answers 404 for it); its record and draft stay."""
    record, revision = await servers.get(server_id)
    if record.deploy_status != "Deployed":
        await servers.drafts.succeeded(server_id)
        return record, revision
    updated = msgspec.structs.replace(record, deploy_status="NotDeployed", updated_ms=now_ms)
    draft = servers.compile(updated, await servers.tools_document(updated), SPEC_FIELD)
    revision = await servers.replace(draft, revision, record)
    await servers.drafts.succeeded(server_id)
    return updated, revision
