"""`mcpgw servers create|get|list|update|delete`: MCP servers (`/v1/mcp-servers`).

Hosting an upstream MCP server and assembling servers are in `hosting`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
from typing import Any

import yaml

from mcpgw.cli import backends, domains, imports
from mcpgw.cli.client import SERVERS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.credentials import described
from mcpgw.cli.errors import UsageError
from mcpgw.cli.inputs import read_text, switch
from mcpgw.cli.output import Output, on_off, when

HOSTED_FROM = ("ApiGatewayMcpHosting", "ApiGatewayProxyMcpHosting")
# C parser when libyaml is there: a 21 MB imported document loads ~10x faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def kind(server: dict[str, Any]) -> str:
    """What the server is, in a word: REST tools, a hosted MCP server, or an assembly."""
    if server.get("type") == "AssemblyMCP":
        return "assembly"
    if server.get("createFromType") in HOSTED_FROM or server.get("protocol") in ("SSE", "StreamableHTTP"):
        return "hosted"
    return "REST"


def tool_names(server: dict[str, Any]) -> list[str]:
    """The tools of a REST server's document (`mcpServerConfig`, base64 YAML)."""
    encoded = server.get("mcpServerConfig") or ""
    try:
        document = yaml.load(base64.b64decode(encoded).decode(), Loader=_Loader) if encoded else None
    except (binascii.Error, UnicodeDecodeError, yaml.YAMLError):
        return []
    tools = document.get("tools") if isinstance(document, dict) else None
    return [str(t.get("name")) for t in tools or [] if isinstance(t, dict)]


def _sources(server: dict[str, Any]) -> str:
    lines = []
    for source in server.get("assembledSources") or []:
        name = source.get("mcpServerName") or source.get("mcpServerId", "?")
        tools = ", ".join(source.get("tools") or []) or "every tool"
        aliases = ", ".join(f"{old} as {new}" for old, new in (source.get("toolAliases") or {}).items())
        status = source.get("status", "")
        missing = source.get("missingTools") or []
        line = f"{name}: {tools}" + (f" ({aliases})" if aliases else "")
        if status and status != "Ok":
            line += f" [{status}{': ' + ', '.join(missing) if missing else ''}]"
        lines.append(line)
    return "\n".join(lines)


def _services(backend: dict[str, Any] | None) -> str:
    services = (backend or {}).get("services") or []
    return ", ".join(f"{s.get('name') or s.get('serviceId')}" + (f" ({s['weight']})" if len(services) > 1 else "")
                     for s in services)


def _upstream(server: dict[str, Any]) -> str:
    services = _services(server.get("backend"))
    if not services or kind(server) != "hosted":
        return ""
    return f"service {services}, path {server.get('exposedUriPath') or '/'}"


def _canaries(server: dict[str, Any]) -> str:
    lines = []
    for gray in server.get("grayMcpServerConfigs") or []:
        match = gray.get("match") or {}
        rules = [f"{h['name']} {h.get('type', 'Exact')} {h.get('value', '')}" for h in match.get("headers") or []]
        rules += [f"?{q['name']} {q.get('type', 'Exact')} {q.get('value', '')}" for q in match.get("queryParams") or []]
        if match.get("path"):
            rules.append(f"path {match['path'].get('type')} {match['path'].get('value')}")
        if match.get("methods"):
            rules.append("methods " + ",".join(match["methods"]))
        lines.append(f"{'; '.join(rules)} -> {_services(gray.get('backendConfig'))}")
    return "\n".join(lines)


def _credential(server: dict[str, Any]) -> str:
    credential = server.get("upstreamCredential")
    return described(credential) if credential else ""


def _deploy(server: dict[str, Any]) -> str:
    """How the server stands: served or not, which publish, a draft, why the last deploy failed."""
    shown = str(server.get("deployStatus", ""))
    published = server.get("publishedRevision")
    if published is not None:
        shown += f", revision {published} published"
    if server.get("hasUnpublishedChanges"):
        shown += ", unpublished changes (servers deploy publishes them)"
    error = server.get("deployError")
    if error:
        shown += f"; last deploy failed: {error.get('field')}: {error.get('message')}"
    return shown


async def _get(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    server_id = await admin.resolve(SERVERS, args.server)
    server = await admin.call("GET", path("/v1/mcp-servers", server_id))
    if out.as_json:
        out.json(server)
        return
    names = tool_names(server)
    ttl = server.get("listTtlMs")
    out.fields([
        ("ID", server["mcpServerId"]),
        ("Name", server["name"]),
        ("Description", server.get("description", "")),
        ("Kind", f"{kind(server)} ({server.get('type')}, {server.get('createFromType')}, {server.get('protocol')})"),
        ("Path", server.get("mcpServerPath", "")),
        ("Consumer auth", on_off((server.get("consumerAuthInfo") or {}).get("enable"))),
        (f"Tools ({len(names)})", out.names(names)),
        ("Upstream", _upstream(server)),
        ("Backend", _services(server.get("backend")) if kind(server) == "REST" else ""),
        ("Canaries", _canaries(server)),
        ("Upstream credential", _credential(server)),
        ("Sources", _sources(server)),
        ("List TTL", f"{ttl} ms" if ttl is not None else ""),
        ("Statistics", on_off(server.get("mcpStatisticsEnable"))),
        ("Revision", str(server.get("revision", ""))),
        ("Deploy", _deploy(server)),
        ("Created", when(server.get("createTimestamp"))),
        ("Updated", when(server.get("updateTimestamp"))),
    ])


async def _list(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    params = {"nameLike": args.name_like} if args.name_like else {}
    if args.type:
        params["type"] = args.type
    items = await admin.all_pages("/v1/mcp-servers", params)
    out.listing(items, ("ID", "NAME", "KIND", "PROTOCOL", "AUTH", "PATH"), lambda item: (
        item["mcpServerId"], item["name"], kind(item), str(item.get("protocol", "")),
        on_off((item.get("consumerAuthInfo") or {}).get("enable")), str(item.get("mcpServerPath", ""))),
        empty="no MCP servers")


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    """The body fields `create` and `update` share, from the options given."""
    body: dict[str, Any] = {}
    if args.description is not None:
        body["description"] = args.description
    if args.consumer_auth is not None:
        body["consumerAuthInfo"] = {"enable": args.consumer_auth}
    if args.statistics is not None:
        body["mcpStatisticsEnable"] = args.statistics
    if args.list_ttl_ms is not None:
        body["listTtlMs"] = None if args.list_ttl_ms < 0 else args.list_ttl_ms
    if args.draft:
        body["deploy"] = False
    if args.tools is not None:
        body["mcpServerConfig"] = {"mcpServerSpec": read_text(args.tools)}
    elif args.openapi is not None:
        body["mcpServerConfig"] = {"swaggerConfig": read_text(args.openapi)}
    return body


async def _domains(admin: Admin, args: argparse.Namespace, body: dict[str, Any]) -> None:
    if args.domain is not None:
        body["domainIds"] = [await domains.resolve(admin, ref) for ref in args.domain]
    elif args.no_domains:
        body["domainIds"] = []


async def _create(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    body = {"name": args.name, **_fields(args)}
    await _domains(admin, args, body)
    await backends.fields(admin, args, body)
    data = await admin.call("POST", "/v1/mcp-servers", body=body)
    if out.as_json:
        out.json(data)
        return
    out.text(f"Created MCP server {data['name']} ({data['mcpServerId']}) at /mcp-servers/{data['name']}")
    if "import" in data:
        out.text("\n".join(imports.counts(data["import"], out)))


async def _update(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    body = _fields(args)
    await _domains(admin, args, body)
    await backends.fields(admin, args, body)
    if not {k: v for k, v in body.items() if k != "deploy"}:
        raise UsageError("servers update: nothing to change; give at least one option (see --help)")
    server_id = await admin.resolve(SERVERS, args.server)
    data = await admin.call("PUT", path("/v1/mcp-servers", server_id), body=body)
    if args.draft:
        out.done(data, f"Saved a draft of MCP server {args.server} ({server_id}); it is served as before until "
                       f"`mcpgw servers deploy {args.server}`")
        return
    out.done(data, f"Updated MCP server {args.server} ({server_id}): revision {data.get('revision')}")


async def _delete(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    server_id = await admin.resolve(SERVERS, args.server)
    await admin.call("DELETE", path("/v1/mcp-servers", server_id))
    out.done({"mcpServerId": server_id}, f"Deleted MCP server {args.server} ({server_id}) and its grants")


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--description", help="what the server offers")
    parser.add_argument("--draft", action="store_true",
                        help="save without publishing: what is served stays until `servers deploy`")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--tools", metavar="FILE", help="its tools: a Higress REST-to-MCP YAML (- reads stdin)")
    source.add_argument("--openapi", metavar="FILE", help="its tools generated from an OpenAPI/Swagger document")
    parser.add_argument("--consumer-auth", type=switch, metavar="on|off",
                        help="admit only consumers with a credential and a grant")
    parser.add_argument("--statistics", type=switch, metavar="on|off", help="record call statistics")
    parser.add_argument("--list-ttl-ms", type=int, metavar="MS",
                        help="how long 2026-07-28 clients may cache the tools list (-1: the edge's default)")
    hosts = parser.add_mutually_exclusive_group()
    hosts.add_argument("--domain", action="append", metavar="HOST",
                       help="answer only on this domain (name or d-… id; repeatable, replaces them all)")
    hosts.add_argument("--no-domains", action="store_true", help="answer on every host again")
    backends.options(parser)


def register(commands: Commands) -> None:
    commands.group("servers", "MCP servers")
    create = commands.add("servers", "create", _create, "create an MCP server (REST tools)")
    create.add_argument("name", help="its name; clients reach it at /mcp-servers/<name>")
    _options(create)
    get = commands.add("servers", "get", _get, "show one MCP server")
    get.add_argument("server", help="name or mcp-… id")
    lst = commands.add("servers", "list", _list, "list MCP servers")
    lst.add_argument("--name-like", help="only names containing this")
    lst.add_argument("--type", choices=("RealMCP", "AssemblyMCP"), help="only servers of this type")
    update = commands.add("servers", "update", _update, "change an MCP server (only the options given)")
    update.add_argument("server", help="name or mcp-… id")
    _options(update)
    delete = commands.add("servers", "delete", _delete, "delete an MCP server and its grants")
    delete.add_argument("server", help="name or mcp-… id")
