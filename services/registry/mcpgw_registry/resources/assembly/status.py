"""How an assembly's sources stand when it is read: `assembledSources[i].status` and `missingTools`.

Sources may change after the assembly was written (a server deleted, a tool removed); that is
allowed, and reported here rather than refused there:
  Ok              the source exists and has every tool listed
  SourceMissing   the source server is gone (or became an assembly itself)
  ToolsMissing    the source lacks some listed or renamed tools (`missingTools`)
  Unchecked       a hosted source whose tools hosting could not say just now
"""

from __future__ import annotations

from typing import Any

from mcpgw_registry.resources.assembly.tool_names import ToolNames
from mcpgw_registry.resources.servers.model import AssembledSource, ServerRecord
from mcpgw_registry.stores.servers import ServerRepository


async def _one(source: AssembledSource, servers: ServerRepository, names: ToolNames) -> dict[str, Any]:
    view: dict[str, Any] = {
        "mcpServerId": source.mcp_server_id,
        "mcpServerName": source.mcp_server_name,
        "tools": source.tools,
        "toolAliases": source.tool_aliases,
    }
    wanted = list(dict.fromkeys([*source.tools, *source.tool_aliases]))
    found = await servers.find(source.mcp_server_id)
    if found is None or found[0].kind == "assembly":
        view.update(status="SourceMissing", missingTools=wanted)
        return view
    known = await names.of(*found)
    if known is None:
        view.update(status="Unchecked", missingTools=[])
        return view
    missing = [tool for tool in wanted if tool not in known]
    view.update(status="ToolsMissing" if missing else "Ok", missingTools=missing)
    return view


async def report(record: ServerRecord, servers: ServerRepository, names: ToolNames) -> list[dict[str, Any]]:
    return [await _one(source, servers, names) for source in record.assembled_sources]
