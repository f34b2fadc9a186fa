"""Messages the registry answers and the change events it publishes."""

from __future__ import annotations

from typing import Literal

import msgspec

from mcpgw.contracts.tools import ServerBlock, ToolSpec


class ToolListing(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One `tools/list` entry, pre-rendered by the registry so the edge only splices bytes."""

    name: str
    entry: msgspec.Raw


class ServerSnapshot(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Everything the data plane needs about one MCP server at one revision."""

    server_id: str
    name: str
    revision: int
    description: str = ""
    protocol: str = "HTTP"
    consumer_auth: bool = False
    # OAuth authorization servers announced in this server's RFC 9728 protected-resource metadata.
    authorization_servers: list[str] = []
    statistics: bool = False
    server: ServerBlock | None = None
    tools: list[ToolSpec] = []
    listing: list[ToolListing] = []


class ServerLookup(msgspec.Struct, kw_only=True, omit_defaults=True, tag="registry.server.lookup.v1",
                   tag_field="kind"):
    """Find a server by name (what the edge routes on) or by id (what toolexec is given)."""

    name: str | None = None
    server_id: str | None = None


class ServerLookupReply(msgspec.Struct, kw_only=True, omit_defaults=True, tag="registry.server.lookup.reply.v1",
                        tag_field="kind"):
    server: ServerSnapshot | None = None


class ApiKeySource(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where a consumer's API key is read from: `Default` = `Authorization: Bearer <key>`."""

    source: Literal["Default", "Header", "QueryString"] = "Default"
    value: str = ""


class ConsumerCredentials(msgspec.Struct, kw_only=True, omit_defaults=True):
    consumer_id: str
    name: str
    enable: bool = True
    # sha256 hex digests of the consumer's API keys: the keys themselves are never stored.
    apikey_hashes: list[str] = []
    apikey_source: ApiKeySource = msgspec.field(default_factory=ApiKeySource)


class AuthIndexRequest(msgspec.Struct, kw_only=True, tag="registry.auth.index.v1", tag_field="kind"):
    pass


class AuthIndex(msgspec.Struct, kw_only=True, omit_defaults=True, tag="registry.auth.index.reply.v1",
                tag_field="kind"):
    """Every consumer's verification material; auth keeps it in memory and reloads it on events."""

    consumers: list[ConsumerCredentials] = []


class ConfigChanged(msgspec.Struct, kw_only=True, omit_defaults=True, tag="event.config.changed.v1",
                    tag_field="kind"):
    """Published after every committed write. Caches drop what it names."""

    entity: Literal["server", "consumer", "grant"]
    id: str
    op: Literal["put", "delete"]
    name: str = ""
    revision: int = 0
