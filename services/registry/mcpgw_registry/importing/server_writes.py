"""What a server write asks of the import workflow (`stores.servers` calls these).

`mcpServerConfig.swaggerConfig` on create or update is an import with the options of the last one;
a tools document sent for an imported server (`mcpServerSpec`, `PUT …/tools`) is read back as
overrides of the generated one (see `edits`), so the next import keeps the operator's edits.
"""

from __future__ import annotations

import asyncio

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw.contracts.tools import ToolsDocument
from mcpgw_registry.importing.edits import derive
from mcpgw_registry.importing.overrides import ImportSettings
from mcpgw_registry.importing.plan import ImportPlan, load_generated, plan_import
from mcpgw_registry.importing.render import render
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.stores.blobs import BlobStore
from mcpgw_registry.stores.server_storage import Tools

SWAGGER_FIELD = "mcpServerConfig.swaggerConfig"


async def plan_swagger(record: ServerRecord, current: Tools | None, swagger: str, *, max_bytes: int,
                       blobs: BlobStore, now_ms: int) -> ImportPlan:
    """`mcpServerConfig.swaggerConfig`: an import with the options of the last one (or defaults)."""
    if not swagger.strip():
        raise invalid(SWAGGER_FIELD, "the OpenAPI document is empty")
    settings = record.imported.options if record.imported is not None else ImportSettings()
    try:
        plan = await plan_import(record, current, swagger, settings, max_bytes=max_bytes, blobs=blobs,
                                 now_ms=now_ms)
    except McpgwError as exc:
        if exc.code is not ErrorCode.INVALID_PARAMETER:
            raise
        raise invalid(SWAGGER_FIELD, exc.message) from None
    record.tools_text, record.tools_format, record.imported = plan.text, plan.format, plan.state
    return plan


async def read_back(blobs: BlobStore, record: ServerRecord,
                    doc: ToolsDocument) -> tuple[ToolsDocument, list[dict[str, object]]]:
    """An edited document of an imported server: its edits recorded as overrides (see `edits`).

    Sets `record.imported` and, when applying the overrides consistently changed the document,
    `record.tools_text`; returns the document to run and the edits a re-import will replace.
    """
    state = record.imported
    if state is None:
        return doc, []
    gen = await load_generated(blobs, state)
    if gen is None:
        return doc, []  # nothing to compare with; the overrides recorded so far stay
    derived = derive(gen, doc, state.tools)
    record.imported = msgspec.structs.replace(state, tools=derived.overrides, server=derived.server)
    if derived.document != doc:
        # The operator's text is kept as sent whenever it is already consistent (comments survive).
        record.tools_text, record.tools_format = await asyncio.to_thread(render, derived.document), "yaml"
    return derived.document, derived.not_kept
