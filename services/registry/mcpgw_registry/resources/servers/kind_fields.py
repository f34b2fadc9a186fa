"""Checks of a server record's kind-specific fields that need nothing but the record itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpgw.contracts.errors import invalid
from mcpgw_registry.resources.servers.kinds import check_from_type, describe, kind_of

if TYPE_CHECKING:  # model.py calls in here while it is being imported
    from mcpgw_registry.resources.servers.model import ServerRecord


def check_kind_fields(record: ServerRecord) -> None:
    """Each kind's own fields are present, and the other kinds' absent."""
    kind = kind_of(record.type, record.protocol)
    what = describe(kind, record.protocol)
    check_from_type(kind, record.protocol, record.create_from_type)
    if kind == "assembly":
        if not record.assembled_sources:
            raise invalid("assembledSources", "is required when type is AssemblyMCP")
        if record.backend_config is not None:
            raise invalid("backendConfig", "an assembly has no backend of its own: its tools come from "
                                           "assembledSources")
        if record.exposed_uri_path:
            raise invalid("exposedUriPath", "an assembly has no upstream path: its tools come from assembledSources")
    elif record.assembled_sources:
        raise invalid("assembledSources", f"only an assembly (type AssemblyMCP) has sources, not {what}")
    if kind == "hosted" and (record.backend_config is None or not record.backend_config.services):
        raise invalid("backendConfig", f"is required when protocol is {record.protocol}, with at least one "
                                       "service: it names the service (addresses) of the upstream MCP server")
    if kind != "hosted" and record.upstream_credential is not None:
        raise invalid("upstreamCredential", f"only a hosted MCP server (protocol SSE or StreamableHTTP) has one, "
                                            f"not {what}")
