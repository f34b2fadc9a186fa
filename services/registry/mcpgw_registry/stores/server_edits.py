"""Edits of a server's configuration (`PUT …`, `PUT …/tools`): saved and published in one step, or
saved as the draft (`"deploy": false`, `?deploy=false`) while the published record keeps serving.

An edit starts from what the operator reads (the draft if there is one, see `drafts`); a publish
publishes that whole draft with the edit, as the console's "Save and Publish" does.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET

from mcpgw_registry.importing.server_writes import plan_swagger, read_back
from mcpgw_registry.resources.servers.model import ServerRecord, UpdateServer, apply_update, spec_of, validate_record
from mcpgw_registry.resources.tools.document import ToolsFormat
from mcpgw_registry.stores.servers import SPEC_FIELD, ServerRepository, parse


async def update(servers: ServerRepository, server_id: str, body: UpdateServer,
                 now_ms: int) -> tuple[ServerRecord, int]:
    editing = await servers.editing(server_id)
    record = editing.record
    updated = apply_update(record, body, now_ms)
    doc = None
    plan = None
    tools_changed = True
    config = body.mcp_server_config
    if config is None:
        updated.tools_text, updated.imported = "", None
    elif config is UNSET or (config.mcp_server_spec is None and config.swagger_config is None):
        tools_changed = False
    else:
        text = spec_of(config)
        if text is not None:
            updated.tools_text, updated.tools_format = text, "yaml"
            if text:
                doc, _ = await read_back(servers.blobs, updated, await parse(text, "yaml", SPEC_FIELD))
            else:
                updated.imported = None
        elif config.swagger_config is not None:
            current = await servers.tools(record)
            plan = await plan_swagger(updated, current, config.swagger_config, max_bytes=servers.max_import_bytes,
                                      blobs=servers.blobs, now_ms=now_ms)
            doc = plan.merge.doc
    validate_record(updated)
    await servers.hooks.prepare(updated, editing.live)
    if not tools_changed:
        doc = await servers.tools_document(updated)
    draft = servers.compile(updated, doc, SPEC_FIELD)
    return updated, await servers.save(draft, editing, publish=body.deploy is not False, plan=plan)


async def put_tools(servers: ServerRepository, server_id: str, text: str, fmt: ToolsFormat, now_ms: int, *,
                    publish: bool = True) -> tuple[ServerRecord, int, list[str], list[dict[str, object]]]:
    editing = await servers.editing(server_id)
    doc = await parse(text, fmt)
    updated = msgspec.structs.replace(editing.record, tools_text=text, tools_format=fmt, updated_ms=now_ms)
    doc, not_kept = await read_back(servers.blobs, updated, doc)
    draft = servers.compile(updated, doc, "body")
    names = [tool.name for tool in doc.tools]
    return updated, await servers.save(draft, editing, publish=publish), names, not_kept
