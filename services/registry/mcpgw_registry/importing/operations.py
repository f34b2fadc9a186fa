"""Operations on an imported server's tools: import (preview or apply), PATCH one tool, view, forget.

They edit what the operator reads (the draft, if any) and publish it with the edit, in one step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw_registry.importing.overrides import ImportState, by_key, tool_key
from mcpgw_registry.importing.patching import ToolPatch, apply_patch
from mcpgw_registry.importing.plan import import_settings, load_generated, plan_import
from mcpgw_registry.importing.render import render
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.tools.document import validate_document
from mcpgw_registry.resources.tools.secrets import masked_config
from mcpgw_registry.resources.validation import MASK
from mcpgw_registry.stores.servers import ServerRepository


def _same_import(before: ImportState | None, after: ImportState) -> bool:
    return before is not None and msgspec.structs.replace(before, imported_ms=0) == \
        msgspec.structs.replace(after, imported_ms=0)


def _not_imported(record: ServerRecord) -> McpgwError:
    return invalid("mcpServerId", f"MCP server {record.name!r} has no tools from an OpenAPI import; "
                                  f"edit its tools with PUT /v1/mcp-servers/{record.id}/tools")


class ToolOperations:
    def __init__(self, servers: ServerRepository) -> None:
        self._servers = servers

    async def import_openapi(self, server_id: str, raw: bytes, query: Mapping[str, str], now_ms: int, *,
                             apply: bool, publish: bool = True) -> dict[str, Any]:
        servers = self._servers
        editing = await servers.editing(server_id)
        record, revision = editing.record, editing.revision
        previous = record.imported
        settings = import_settings(query, previous.options if previous is not None else None)
        current = await servers.tools(record)
        plan = await plan_import(record, current, raw, settings, max_bytes=servers.max_import_bytes,
                                 blobs=servers.blobs, now_ms=now_ms)
        updated = msgspec.structs.replace(record, tools_text=plan.text, tools_format=plan.format,
                                          imported=plan.state, updated_ms=now_ms)
        # Compiled on preview too: a preview that passes is an apply that passes (size limits included).
        draft = servers.compile(updated, plan.merge.doc, "body")
        data: dict[str, Any] = {"mcpServerId": record.id, **plan.report()}
        unchanged = _same_import(previous, plan.state) and current is not None and current.doc == plan.merge.doc
        if apply and not unchanged:
            revision = await servers.save(draft, editing, publish=publish, plan=plan)
            data["applied"] = True
            data["published"] = publish
        else:
            # Nothing to write (a preview, or an import identical to the last): no revision, no event.
            data["applied"] = False
        data["revision"] = revision
        return data

    async def patch_tool(self, server_id: str, name: str, patch: ToolPatch, now_ms: int, *,
                         publish: bool = True) -> dict[str, Any]:
        servers = self._servers
        editing = await servers.editing(server_id)
        record = editing.record
        state = record.imported
        current = await servers.tools_document(record) if state is not None else None
        if state is None or current is None:
            raise _not_imported(record)
        index = next((i for i, t in enumerate(current.tools) if t.name == name), None)
        if index is None:
            raise McpgwError(ErrorCode.NOT_FOUND, f"tool: MCP server {record.name!r} has no tool {name!r}")
        tool = current.tools[index]
        key = tool_key(tool)
        if key is None:
            raise invalid("tool", f"{name!r} was not imported (it has no source); edit it with "
                                  f"PUT /v1/mcp-servers/{record.id}/tools")
        generated = await load_generated(servers.blobs, state)
        gen_tool = by_key(generated).get(key, tool) if generated is not None else tool
        override, new_tool = apply_patch(gen_tool, tool, state.tools.get(key), patch)
        if new_tool.name != name and any(t.name == new_tool.name for t in current.tools):
            raise McpgwError(ErrorCode.CONFLICT, f"name: MCP server {record.name!r} already has a tool named "
                                                 f"{new_tool.name!r}")
        tools = list(current.tools)
        tools[index] = new_tool
        doc = msgspec.structs.replace(current, tools=tools)
        # The rest was validated when stored (and the new name checked above): on an import of
        # hundreds of tools, validating them all again would take seconds.
        validate_document(msgspec.structs.replace(doc, tools=[new_tool]))
        overrides = {k: v for k, v in state.tools.items() if k != key}
        if not override.is_empty():
            overrides[key] = override
        text = await asyncio.to_thread(render, doc)  # megabytes for a large import
        updated = msgspec.structs.replace(record, tools_text=text, tools_format="yaml", updated_ms=now_ms,
                                          imported=msgspec.structs.replace(state, tools=overrides))
        draft = servers.compile(updated, doc, "body")
        revision = await servers.save(draft, editing, publish=publish)
        return {"mcpServerId": record.id, "revision": revision, "tool": new_tool.name, "source": key,
                "override": msgspec.to_builtins(override)}

    async def import_view(self, server_id: str) -> dict[str, Any]:
        editing = await self._servers.editing(server_id)
        record, revision = editing.record, editing.revision
        state = record.imported
        if state is None:
            return {"mcpServerId": record.id, "imported": False, "revision": revision}
        server: dict[str, Any] = msgspec.to_builtins(state.server) if state.server is not None else {}
        # Never echo a secret: credentials, and config values that are secret (see resources.tools.config_secrets).
        if "credentials" in server:
            server["credentials"] = {k: MASK for k in server["credentials"]}
        if "config" in server:
            server["config"] = masked_config(server["config"], server.get("secretConfig") or ())
        return {"mcpServerId": record.id, "imported": True, "revision": revision,
                "importTimestamp": state.imported_ms, "operations": state.operations,
                "options": {"baseUrl": state.options.base_url,
                            "includeDeprecated": state.options.include_deprecated,
                            "descriptionLimit": state.options.description_limit},
                "overrides": msgspec.to_builtins(state.tools), "serverOverrides": server}

    async def forget_import(self, server_id: str, now_ms: int) -> dict[str, Any]:
        """Detach the tools from their OpenAPI document: they stay as they are, overrides are dropped."""
        servers = self._servers
        editing = await servers.editing(server_id)
        record = editing.record
        if record.imported is None:
            raise _not_imported(record)
        updated = msgspec.structs.replace(record, imported=None, updated_ms=now_ms)
        draft = servers.compile(updated, await servers.tools_document(updated), "body")
        revision = await servers.save(draft, editing, publish=True)
        return {"mcpServerId": record.id, "revision": revision}
