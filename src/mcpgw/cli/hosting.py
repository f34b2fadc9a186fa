"""`mcpgw servers host|assemble`: an upstream MCP server behind the gateway (a service for its
address and a hosted server for its transport and path), and one server of tools drawn from others."""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from mcpgw.cli.client import SERVERS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.errors import CliError, UsageError
from mcpgw.cli.inputs import read_text, secret_from_env
from mcpgw.cli.output import Output


def upstream_service(url: str, name: str, ca_file: str | None) -> tuple[dict[str, Any], str]:
    """The `/v1/services` body for an upstream MCP server's URL, and the URL's path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{url}: not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        ipaddress.ip_address(parts.hostname)
        source = "VIP"
    except ValueError:
        source = "DNS"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    config: dict[str, Any] = {"name": name, "addresses": [f"{host}:{port}"], "protocol": parts.scheme.upper()}
    if ca_file:
        config["caBundle"] = read_text(ca_file)
    where = parts.path or "/"
    if parts.query:
        where += "?" + parts.query
    return {"sourceType": source, "serviceConfigs": [config]}, where


def upstream_credential(args: argparse.Namespace) -> dict[str, Any] | None:
    """What the gateway presents upstream, from the credential options (secrets from the environment)."""
    if args.bearer_env:
        return {"type": "Bearer", "value": secret_from_env(args.bearer_env, "--bearer-env")}
    if args.api_key_env:
        if not args.key_name:
            raise UsageError("--api-key-env needs --key-name: the header (or query parameter) it is sent in")
        return {"type": "ApiKey", "value": secret_from_env(args.api_key_env, "--api-key-env"),
                "name": args.key_name, "location": args.key_in}
    if args.basic_user:
        password = secret_from_env(args.password_env, "--password-env") if args.password_env else ""
        return {"type": "Basic", "username": args.basic_user, "password": password}
    return None


async def _host(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    service, where = upstream_service(args.url, f"{args.name}-upstream", args.ca_file)
    credential = upstream_credential(args)
    created = await admin.call("POST", "/v1/services", body=service)
    body: dict[str, Any] = {
        "name": args.name, "type": "RealMCP", "createFromType": "ApiGatewayMcpHosting",
        "protocol": args.transport, "exposedUriPath": where,
        "backendConfig": {"scene": "SingleService", "services": [{"serviceId": created["serviceIds"][0]}]}}
    if args.description:
        body["description"] = args.description
    if credential is not None:
        body["upstreamCredential"] = credential
    try:
        data = await admin.call("POST", "/v1/mcp-servers", body=body)
    except CliError:
        # The server was refused (its name taken, a bad credential): the service made for it goes too.
        await admin.call("DELETE", path("/v1/services", created["serviceIds"][0]))
        raise
    out.done({**data, "serviceId": created["serviceIds"][0]},
             f"{data['mcpServerId']}  {args.name}  hosting {args.url} ({args.transport}) at /mcp-servers/{args.name}")


def assembly_sources(specs: Sequence[str], aliases: Sequence[str]) -> list[tuple[str, list[str], dict[str, str]]]:
    """`server[=tool,tool]` and `server:tool=new` arguments as (server, tools, aliases)."""
    sources: list[tuple[str, list[str], dict[str, str]]] = []
    for spec in specs:
        server, _, tools = spec.partition("=")
        if not server:
            raise UsageError(f"{spec}: expected <server>[=tool,tool]")
        sources.append((server, [t for t in tools.split(",") if t], {}))
    for alias in aliases:
        where, _, new = alias.partition("=")
        server, _, tool = where.partition(":")
        source = next((s for s in sources if s[0] == server), None)
        if not (server and tool and new) or source is None:
            raise UsageError(f"--alias {alias}: expected <server>:<tool>=<new name> for one of the sources")
        source[2][tool] = new
    return sources


async def _assemble(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    assembled = []
    for server, tools, aliases in assembly_sources(args.sources, args.alias or []):
        source: dict[str, Any] = {"mcpServerId": await admin.resolve(SERVERS, server), "tools": tools}
        if aliases:
            source["toolAliases"] = aliases
        assembled.append(source)
    body: dict[str, Any] = {"name": args.name, "type": "AssemblyMCP", "createFromType": "ApiGatewayAssembly",
                            "assembledSources": assembled}
    if args.description:
        body["description"] = args.description
    data = await admin.call("POST", "/v1/mcp-servers", body=body)
    out.done(data,
             f"{data['mcpServerId']}  {args.name}  assembling {len(assembled)} servers at /mcp-servers/{args.name}")


def credential_options(parser: argparse.ArgumentParser) -> None:
    """What the gateway presents to the upstream; secrets are named by environment variable."""
    group = parser.add_argument_group("upstream credential (one of)")
    choice = group.add_mutually_exclusive_group()
    choice.add_argument("--bearer-env", metavar="VAR", help="send the token in this environment variable as Bearer")
    choice.add_argument("--api-key-env", metavar="VAR", help="send the key in this environment variable")
    choice.add_argument("--basic-user", metavar="USER", help="HTTP Basic with this user (and --password-env)")
    group.add_argument("--key-name", metavar="NAME", help="with --api-key-env: the header or query parameter")
    group.add_argument("--key-in", choices=("header", "query"), default="header", help="with --api-key-env")
    group.add_argument("--password-env", metavar="VAR", help="with --basic-user: the password's variable")


def register(commands: Commands) -> None:
    host = commands.add("servers", "host", _host, "put an existing MCP server behind the gateway")
    host.add_argument("name", help="the new server's name (its path is /mcp-servers/<name>)")
    host.add_argument("url", help="the upstream MCP server's URL, e.g. http://10.0.0.5:3000/mcp")
    host.add_argument("--transport", choices=("StreamableHTTP", "SSE"), default="StreamableHTTP",
                      help="what the upstream speaks (default %(default)s)")
    host.add_argument("--ca-file", help="PEM CA certificates to trust for an https upstream")
    host.add_argument("--description", help="what the server offers")
    credential_options(host)
    assemble = commands.add("servers", "assemble", _assemble, "one server of tools drawn from others")
    assemble.add_argument("name", help="the new server's name")
    assemble.add_argument("sources", nargs="+", metavar="server[=tool,tool]",
                          help="a source server (name or id), optionally only the tools named")
    assemble.add_argument("--alias", action="append", metavar="server:tool=new",
                          help="expose a source's tool under another name (repeatable)")
    assemble.add_argument("--description", help="what the server offers")
