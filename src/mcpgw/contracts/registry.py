"""Messages the registry answers and the change events it publishes."""

from __future__ import annotations

from typing import Literal

import msgspec

from mcpgw.contracts.hosting import AssemblySource, HostedBackend, UpstreamTarget
from mcpgw.contracts.tools import ServerBlock, ToolSpec

# What serves a server's tools: toolexec (REST-converted), hosting (an existing MCP server), or the
# edge itself drawing from other servers (an assembly).
ServerKind = Literal["rest", "hosted", "assembly"]


class ToolListing(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One `tools/list` entry, pre-rendered by the registry so the edge only splices bytes."""

    name: str
    entry: msgspec.Raw
    # Safe to send twice (an HTTP GET or HEAD, or marked idempotent or read-only in its
    # annotations): a call whose worker was lost is retried once on another replica.
    repeatable: bool = False


RuleType = Literal["Exact", "Prefix", "Regex"]

# A gray config's header rule on this name tests the verified consumer's name (set by the gateway
# from the authenticated identity), never a header the client sent: a per-consumer canary.
CONSUMER_HEADER = "x-mcpgw-consumer"


class ValueRule(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One condition of a route match: a path, or a header or query parameter by `name`."""

    type: RuleType = "Exact"
    value: str = ""
    name: str = ""


class RouteMatch(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A server's `match` (reference §4.1) as the edge applies it: every condition given must hold.

    Regexes must match the whole value; methods are HTTP's spelling (`OPTIONS`, not the docs' `OPTION`).
    """

    path: ValueRule | None = None
    headers: list[ValueRule] = []
    query_params: list[ValueRule] = []
    methods: list[str] = []
    ignore_uri_case: bool = False


class ServerSnapshot(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One MCP server at one revision, compiled: what toolexec runs tools from.

    It carries the tools document, backend credentials and config included; it goes to toolexec
    only. The edge is sent `EdgeServer`.
    """

    server_id: str
    name: str
    revision: int
    description: str = ""
    protocol: str = "HTTP"
    consumer_auth: bool = False
    # OAuth authorization servers announced in this server's RFC 9728 protected-resource metadata.
    authorization_servers: list[str] = []
    statistics: bool = False
    # 2026-07-28 list results' `ttlMs`; None: the edge's default.
    list_ttl_ms: int | None = None
    server: ServerBlock | None = None
    tools: list[ToolSpec] = []
    listing: list[ToolListing] = []
    kind: ServerKind = "rest"
    # kind "hosted": the upstream (no credential: that travels to hosting only).
    hosted: HostedBackend | None = None
    # kind "assembly": where its tools come from, in order (the first source wins a listing tie).
    sources: list[AssemblySource] = []
    # The host names of its domains (canonical, see `mcpgw.hosts`); empty: every host.
    hosts: list[str] = []
    match: RouteMatch | None = None
    # kind "rest" with a `backendConfig`: the addresses relative tool URLs go to, the main backend's
    # first, then each gray config's (index = `ToolCallRequest.backend`). Empty: no backendConfig.
    backends: list[list[UpstreamTarget]] = []
    # The gray configs' matches, in order (what the edge turns into `ToolCallRequest.backend`;
    # None matches nothing).
    gray: list[RouteMatch | None] = []


class EdgeServer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the edge serves one MCP server from, at one revision: listings and flags, no tool specs.

    The edge faces the internet, so it is sent nothing it does not use: no tools document, no
    config, no backend or upstream credential (those stay in the registry, toolexec and hosting).
    """

    server_id: str
    name: str
    revision: int
    description: str = ""
    # serverInfo.version: the tools document's `server.version` ("": the edge's own).
    version: str = ""
    consumer_auth: bool = False
    # OAuth authorization servers announced in this server's RFC 9728 protected-resource metadata.
    authorization_servers: list[str] = []
    # 2026-07-28 list results' `ttlMs`; None: the edge's default.
    list_ttl_ms: int | None = None
    listing: list[ToolListing] = []
    # `mcpStatisticsEnable`: the edge counts the calls it answers itself (refusals, an assembly's).
    statistics: bool = False
    # Whether the client's own `Authorization` goes along with its calls: the tools document asks
    # for it (`passthroughAuthHeader`, or a security reference with `passthrough: true`).
    passthrough: bool = False
    kind: ServerKind = "rest"
    # kind "assembly": where its tools come from, in order (the first source wins a listing tie).
    sources: list[AssemblySource] = []
    # Where it answers: only on these hosts (its domains' names, canonical, see `mcpgw.hosts`;
    # empty: every host), and only to requests `match` admits (None: every request).
    hosts: list[str] = []
    match: RouteMatch | None = None
    # `grayMcpServerConfigs[i].match`, in order: a request matching i (the first) goes to backend
    # i+1. Matches only: the edge holds no backend address. A header rule on `x-mcpgw-consumer`
    # is tested against the verified consumer's name, never the header a client sent. None matches
    # nothing.
    gray: list[RouteMatch | None] = []


class EdgeServerLookup(msgspec.Struct, kw_only=True, omit_defaults=True, tag="registry.edge.lookup.v1",
                       tag_field="kind"):
    """edge -> registry: a server by name (what clients address) or by id (an assembly's source)."""

    name: str | None = None
    server_id: str | None = None


class EdgeServerLookupReply(msgspec.Struct, kw_only=True, omit_defaults=True, tag="registry.edge.lookup.reply.v1",
                            tag_field="kind"):
    server: EdgeServer | None = None


class ServerLookup(msgspec.Struct, kw_only=True, omit_defaults=True, tag="registry.server.lookup.v1",
                   tag_field="kind"):
    """toolexec -> registry: a server's compiled snapshot, by id (what a call names) or by name."""

    name: str | None = None
    server_id: str | None = None


class ServerLookupReply(msgspec.Struct, kw_only=True, omit_defaults=True, tag="registry.server.lookup.reply.v1",
                        tag_field="kind"):
    server: ServerSnapshot | None = None


class ApiKeySource(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where a consumer's API key is read from: `Default` = `Authorization: Bearer <key>`."""

    source: Literal["Default", "Header", "QueryString"] = "Default"
    value: str = ""


class TokenSource(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where a consumer's JWT is read from (the reference's `jwtTokenConfig`)."""

    key: str = "Authorization"
    position: Literal["HEADER", "QUERY", "COOKIE"] = "HEADER"
    prefix: str = "Bearer "


class ClaimToHeader(msgspec.Struct, kw_only=True, omit_defaults=True):
    claim: str
    header: str
    override: bool = True


class JwtVerification(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A consumer's JWT settings as auth needs them. Key material travels only registry -> auth."""

    # "Symmetry": `jwks` holds the shared secret (HS*), bare or as a JWKS / JWK of `oct` keys.
    # Otherwise `jwks` is a JWKS document, one JWK, or a PEM, and/or `remote_jwks_uri` names a JWKS
    # to fetch (cached, rotated). What is acceptable, and how it is parsed: `mcpgw.jwtkeys`.
    secret_type: str = ""
    jwks: str = ""
    remote_jwks_uri: str = ""
    issuer: str = ""
    audience: list[str] = []
    clock_skew_seconds: int = 60
    token_source: TokenSource = msgspec.field(default_factory=TokenSource)
    # The token belongs to this consumer when claim `payload_key` equals `payload_value`.
    payload_key: str = ""
    payload_value: str = ""
    claims_to_headers: list[ClaimToHeader] = []


class ConsumerCredentials(msgspec.Struct, kw_only=True, omit_defaults=True):
    consumer_id: str
    name: str
    enable: bool = True
    # sha256 hex digests of the consumer's API keys: the keys themselves are never stored.
    apikey_hashes: list[str] = []
    apikey_source: ApiKeySource = msgspec.field(default_factory=ApiKeySource)
    jwt: JwtVerification | None = None


class Grant(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An authorization rule (`car-…`): a consumer may use a server, or only the named tools of it."""

    rule_id: str
    consumer_id: str
    server_id: str
    # None: the whole server (wins over any tool-level grant); a list: only these tools.
    tools: list[str] | None = None
    # Unix milliseconds; 0: long-term.
    expires_at: int = 0


class AuthIndexRequest(msgspec.Struct, kw_only=True, tag="registry.auth.index.v1", tag_field="kind"):
    pass


class AuthIndex(msgspec.Struct, kw_only=True, omit_defaults=True, tag="registry.auth.index.reply.v1",
                tag_field="kind"):
    """Every consumer's verification material; auth keeps it in memory and reloads it on events."""

    consumers: list[ConsumerCredentials] = []
    grants: list[Grant] = []
    # The configuration revision this index reflects (>= the revision of every write it includes).
    revision: int = 0


class ConfigChanged(msgspec.Struct, kw_only=True, omit_defaults=True, tag="event.config.changed.v1",
                    tag_field="kind"):
    """Published after every committed write. Caches drop what it names."""

    entity: Literal["server", "consumer", "grant", "service"]
    id: str
    op: Literal["put", "delete"]
    name: str = ""
    revision: int = 0
