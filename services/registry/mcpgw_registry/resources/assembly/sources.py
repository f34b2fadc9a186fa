"""Checking an assembly's `assembledSources` when it is written.

Every source must exist (by id, or by name when only the name is given; the id is then stored),
must not be an assembly itself, and must appear once. The tools it lists (and renames in
`toolAliases`) must be the source's, when its tools can be known (see `tool_names`). No two
sources may expose the same name: the assembly's clients could not tell which tool they call.
"""

from __future__ import annotations

from mcpgw.contracts.errors import invalid
from mcpgw_registry.resources.assembly.tool_names import ToolNames
from mcpgw_registry.resources.servers.model import AssembledSource, ServerRecord
from mcpgw_registry.resources.tools.document import TOOL_NAME
from mcpgw_registry.resources.validation import join
from mcpgw_registry.stores.servers import ServerRepository

MAX_SOURCES = 64


async def _source(servers: ServerRepository, source: AssembledSource, field: str) -> tuple[ServerRecord, int]:
    if source.mcp_server_id:
        found = await servers.find(source.mcp_server_id)
        if found is None:
            raise invalid(join(field, "mcpServerId"), f"no MCP server {source.mcp_server_id!r}")
        if source.mcp_server_name and source.mcp_server_name != found[0].name:
            raise invalid(join(field, "mcpServerName"), f"is {source.mcp_server_name!r}, but MCP server "
                                                        f"{source.mcp_server_id} is named {found[0].name!r}")
        return found
    found = await servers.find_by_name(source.mcp_server_name)
    if found is None:
        raise invalid(join(field, "mcpServerName"), f"no MCP server named {source.mcp_server_name!r}")
    return found


def _check_names(source: AssembledSource, field: str) -> None:
    for j, tool in enumerate(source.tools):
        if not TOOL_NAME.match(tool):
            raise invalid(join(field, f"tools[{j}]"), "must be a tool name (1-128 of A-Z a-z 0-9 _ . -)")
    if len(set(source.tools)) != len(source.tools):
        raise invalid(join(field, "tools"), "lists a tool twice")
    for original, alias in source.tool_aliases.items():
        afield = join(field, f"toolAliases.{original}")
        if source.tools and original not in source.tools:
            raise invalid(afield, f"renames {original!r}, which is not among this source's tools")
        if not TOOL_NAME.match(alias):
            raise invalid(afield, f"{alias!r} is not a valid MCP tool name (1-128 of A-Z a-z 0-9 _ . -)")


async def check(record: ServerRecord, servers: ServerRepository, names: ToolNames) -> None:
    """Validate and resolve `record.assembled_sources` in place (ids and names filled in)."""
    if len(record.assembled_sources) > MAX_SOURCES:
        raise invalid("assembledSources", f"takes at most {MAX_SOURCES} sources")
    seen: dict[str, int] = {}
    # Exposed name -> (source index, source server name, the source's own name of the tool).
    exposed: dict[str, tuple[int, str, str]] = {}
    for i, source in enumerate(record.assembled_sources):
        field = f"assembledSources[{i}]"
        found, revision = await _source(servers, source, field)
        id_field = join(field, "mcpServerId")
        if found.kind == "assembly":
            raise invalid(id_field, f"MCP server {found.name!r} is an assembly; an assembly draws only from "
                                    "REST-converted or hosted servers")
        if found.id in seen:
            raise invalid(id_field, f"MCP server {found.name!r} is already assembledSources[{seen[found.id]}]")
        seen[found.id] = i
        source.mcp_server_id, source.mcp_server_name = found.id, found.name
        _check_names(source, field)
        known = await names.of(found, revision)
        if known is not None:
            for j, tool in enumerate(source.tools):
                if tool not in known:
                    raise invalid(join(field, f"tools[{j}]"), f"MCP server {found.name!r} has no tool {tool!r}")
            for original in source.tool_aliases:
                if original not in known:
                    raise invalid(join(field, f"toolAliases.{original}"),
                                  f"MCP server {found.name!r} has no tool {original!r}")
        # With no list, every tool: known ones by name, unknown ones only as far as aliases say.
        taken = source.tools or (sorted(known) if known is not None else list(source.tool_aliases))
        for tool in taken:
            name = source.tool_aliases.get(tool, tool)
            if name in exposed:
                j, other, original = exposed[name]
                raise invalid(join(field, "tools"),
                              f"tool {name!r} of MCP server {found.name!r} (as {tool!r}) clashes with tool "
                              f"{original!r} of MCP server {other!r} (assembledSources[{j}]); rename one "
                              "of them with toolAliases")
            exposed[name] = (i, found.name, tool)
