"""`mcpgw`: the admin API from a shell.

  mcpgw tools import <server> <file> [--preview] [--json] [--base-url URL] [--skip-deprecated]
  mcpgw tools get <server>
  mcpgw tools example [--openapi]
  mcpgw servers list [--name-like TEXT] [--json]
  mcpgw servers host <name> <url> [--transport StreamableHTTP|SSE] [--ca-file PEM] [--bearer-env VAR]
  mcpgw servers assemble <name> <server>[=tool,tool…]… [--alias <server>:<tool>=<new name>]…
  mcpgw services list [--json]

<server> is a name or an `mcp-…` id. The admin API is `MCPGW_ADMIN_URL` (default
http://127.0.0.1:8081); `MCPGW_ADMIN_TOKEN`, when set, is sent as a bearer token.
Exit codes: 0 ok, 1 the API refused or could not be reached (message on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

DEFAULT_ADMIN_URL = "http://127.0.0.1:8081"
SERVER_ID = re.compile(r"^mcp-[a-z0-9]{16}$")
PAGE_SIZE = 100


class CliError(Exception):
    """Printed as `error: <message>` with exit code 1."""


class Admin:
    """A small client of the admin API: the envelope unwrapped, failures as `CliError`."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")

    async def call(self, method: str, path: str, *, data: bytes | None = None, content_type: str | None = None,
                   params: dict[str, str] | None = None) -> Any:
        """The envelope's `data` (JSON answers) or the body text (YAML answers)."""
        headers = {"Content-Type": content_type} if content_type else {}
        url = self._base + path
        try:
            async with self._http.request(method, url, data=data, headers=headers, params=params) as resp:
                if resp.content_type == "application/json":
                    body = await resp.json()
                    if resp.status >= 400 or not isinstance(body, dict) or body.get("code", "Ok") != "Ok":
                        code = body.get("code", resp.status) if isinstance(body, dict) else resp.status
                        message = body.get("message", "") if isinstance(body, dict) else str(body)
                        raise CliError(f"{code} ({resp.status}): {message}")
                    return body.get("data")
                text = await resp.text()
                if resp.status >= 400:
                    raise CliError(f"HTTP {resp.status} from {method} {path}: {text[:200]}")
                return text
        except aiohttp.ClientConnectionError as exc:
            raise CliError(f"cannot reach the admin API at {self._base}: {exc}") from None
        except TimeoutError:
            raise CliError(f"the admin API at {self._base} did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise CliError(f"{method} {path} failed: {exc}") from None

    async def server_id(self, server: str) -> str:
        """An id as given; a name resolved by exact match (the list filter matches substrings)."""
        if SERVER_ID.match(server):
            return server
        page = 1
        while True:
            data = await self.call("GET", "/v1/mcp-servers", params={
                "nameLike": server, "pageNumber": str(page), "pageSize": str(PAGE_SIZE)})
            for item in data.get("items", []):
                if item.get("name") == server:
                    return str(item["mcpServerId"])
            if page * PAGE_SIZE >= int(data.get("totalSize", 0)):
                raise CliError(f"no MCP server named {server!r}")
            page += 1


def _content_type(raw: bytes, path: str) -> str:
    if path.lower().endswith(".json") or raw.lstrip()[:1] in (b"{", b"["):
        return "application/json"
    return "application/yaml"


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def _names(items: Sequence[str]) -> str:
    return ", ".join(items)


def import_summary(server: str, data: dict[str, Any], preview: bool) -> str:
    """The human report: counts first, then what changed, then what the converter left out."""
    if preview:
        head = f"Preview of importing into {server} (nothing was changed):"
    elif data.get("applied"):
        head = f"Imported into {server} (revision {data.get('revision')}):"
    else:
        head = f"Imported into {server}: no changes (revision {data.get('revision')} stays)."
    lines = [head, f"  {len(data.get('tools', []))} tools from {data.get('operations', 0)} operations"]
    for label in ("added", "removed"):
        items = data.get(label, [])
        if items:
            lines.append(f"  {label} ({len(items)}): {_names(items)}")
    changed = data.get("changed", [])
    if changed:
        parts = []
        for item in changed:
            text = f"{item['tool']} ({', '.join(item.get('fields', []))})"
            if item.get("specName"):
                text += f" [name kept; the spec now says {item['specName']}]"
            parts.append(text)
        lines.append(f"  changed ({len(changed)}): {'; '.join(parts)}")
    lines.append(f"  unchanged: {data.get('unchanged', 0)}")
    for label in ("skipped", "degraded"):
        items = data.get(label, [])
        if items:
            lines.append(f"  {label} ({len(items)}):")
            lines.extend(f"    {item['operation']}: {item['reason']}" for item in items)
    for warning in data.get("warnings", []):
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)


async def _tools_import(admin: Admin, args: argparse.Namespace) -> None:
    raw = _read(args.file)
    server_id = await admin.server_id(args.server)
    params: dict[str, str] = {}
    if args.base_url is not None:
        params["baseUrl"] = args.base_url
    if args.skip_deprecated:
        params["includeDeprecated"] = "false"
    if args.description_limit is not None:
        params["descriptionLimit"] = str(args.description_limit)
    action = "import:preview" if args.preview else "import"
    data = await admin.call("POST", f"/v1/mcp-servers/{server_id}/tools/{action}", data=raw,
                            content_type=_content_type(raw, args.file), params=params)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(import_summary(args.server, data, args.preview))


async def _tools_get(admin: Admin, args: argparse.Namespace) -> None:
    server_id = await admin.server_id(args.server)
    text = await admin.call("GET", f"/v1/mcp-servers/{quote(server_id)}/tools")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


async def _tools_example(admin: Admin, args: argparse.Namespace) -> None:
    text = await admin.call("GET", "/v1/mcp-servers/tools/import/example",
                            params={"kind": "openapi" if args.openapi else "tools"})
    sys.stdout.write(text)


async def _all_pages(admin: Admin, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every item of a paged list of the admin API."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        data = await admin.call("GET", path, params={**(params or {}), "pageNumber": str(page),
                                                    "pageSize": str(PAGE_SIZE)})
        items.extend(data.get("items", []))
        if page * PAGE_SIZE >= int(data.get("totalSize", 0)):
            return items
        page += 1


async def _servers_list(admin: Admin, args: argparse.Namespace) -> None:
    items = await _all_pages(admin, "/v1/mcp-servers", {"nameLike": args.name_like} if args.name_like else None)
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
        return
    for item in items:
        print(f"{item['mcpServerId']}  {item['name']:<32}  {item.get('type', '')}  {item.get('protocol', '')}  "
              f"{item.get('mcpServerPath', '')}")


def upstream_service(url: str, name: str, ca_file: str | None) -> tuple[dict[str, Any], str]:
    """The `/v1/services` body for an upstream MCP server's URL, and the URL's path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"{url}: not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        ipaddress.ip_address(parts.hostname)
        source = "VIP"
    except ValueError:
        source = "DNS"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    config: dict[str, Any] = {"name": name, "addresses": [f"{host}:{port}"], "protocol": parts.scheme.upper()}
    if ca_file:
        config["caBundle"] = _read(ca_file).decode()
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return {"sourceType": source, "serviceConfigs": [config]}, path


async def _servers_host(admin: Admin, args: argparse.Namespace) -> None:
    service, path = upstream_service(args.url, f"{args.name}-upstream", args.ca_file)
    created = await admin.call("POST", "/v1/services", data=json.dumps(service).encode(),
                               content_type="application/json")
    body: dict[str, Any] = {
        "name": args.name, "type": "RealMCP", "createFromType": "ApiGatewayMcpHosting",
        "protocol": args.transport, "exposedUriPath": path,
        "backendConfig": {"scene": "SingleService", "services": [{"serviceId": created["serviceIds"][0]}]}}
    if args.bearer_env:
        token = os.environ.get(args.bearer_env)
        if not token:
            raise CliError(f"--bearer-env {args.bearer_env}: that environment variable is not set")
        body["upstreamCredential"] = {"type": "Bearer", "value": token}
    data = await admin.call("POST", "/v1/mcp-servers", data=json.dumps(body).encode(), content_type="application/json")
    print(f"{data['mcpServerId']}  {args.name}  hosting {args.url} ({args.transport}) at /mcp-servers/{args.name}")


def assembly_sources(specs: Sequence[str], aliases: Sequence[str]) -> list[tuple[str, list[str], dict[str, str]]]:
    """`server[=tool,tool]` and `server:tool=new` arguments as (server, tools, aliases)."""
    sources: list[tuple[str, list[str], dict[str, str]]] = []
    for spec in specs:
        server, _, tools = spec.partition("=")
        if not server:
            raise CliError(f"{spec}: expected <server>[=tool,tool]")
        sources.append((server, [t for t in tools.split(",") if t], {}))
    for alias in aliases:
        where, _, new = alias.partition("=")
        server, _, tool = where.partition(":")
        source = next((s for s in sources if s[0] == server), None)
        if not (server and tool and new) or source is None:
            raise CliError(f"--alias {alias}: expected <server>:<tool>=<new name> for one of the sources")
        source[2][tool] = new
    return sources


async def _servers_assemble(admin: Admin, args: argparse.Namespace) -> None:
    assembled = []
    for server, tools, aliases in assembly_sources(args.sources, args.alias or []):
        source: dict[str, Any] = {"mcpServerId": await admin.server_id(server), "tools": tools}
        if aliases:
            source["toolAliases"] = aliases
        assembled.append(source)
    body = {"name": args.name, "type": "AssemblyMCP", "createFromType": "ApiGatewayAssembly",
            "assembledSources": assembled}
    data = await admin.call("POST", "/v1/mcp-servers", data=json.dumps(body).encode(), content_type="application/json")
    print(f"{data['mcpServerId']}  {args.name}  assembling {len(assembled)} servers at /mcp-servers/{args.name}")


async def _services_list(admin: Admin, args: argparse.Namespace) -> None:
    items = await _all_pages(admin, "/v1/services")
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
        return
    for item in items:
        print(f"{item['serviceId']}  {item['name']:<32}  {item.get('sourceType', '')}  {item.get('protocol', '')}  "
              f"{' '.join(item.get('addresses', []))}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mcpgw", description="mcpgw admin command line")
    top.add_argument("--admin-url", default=os.environ.get("MCPGW_ADMIN_URL", DEFAULT_ADMIN_URL),
                     help="admin API base URL (env MCPGW_ADMIN_URL; default %(default)s)")
    top.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default %(default)s)")
    groups = top.add_subparsers(dest="group", required=True, metavar="{tools,servers,services}")

    tools = groups.add_parser("tools", help="tools of an MCP server").add_subparsers(
        dest="command", required=True, metavar="{import,get,example}")
    imp = tools.add_parser("import", help="import tools from an OpenAPI/Swagger document")
    imp.add_argument("server", help="MCP server name or mcp-… id")
    imp.add_argument("file", help="OpenAPI document (JSON or YAML); - reads stdin")
    imp.add_argument("--preview", action="store_true", help="show what would change; change nothing")
    imp.add_argument("--json", action="store_true", help="print the API's report as one JSON object")
    imp.add_argument("--base-url", help="backend base URL instead of the document's servers")
    imp.add_argument("--skip-deprecated", action="store_true", help="leave deprecated operations out")
    imp.add_argument("--description-limit", type=int, help="characters per description")
    imp.set_defaults(run=_tools_import)
    get = tools.add_parser("get", help="print a server's tools YAML")
    get.add_argument("server", help="MCP server name or mcp-… id")
    get.set_defaults(run=_tools_get)
    example = tools.add_parser("example", help="print an example tools YAML")
    example.add_argument("--openapi", action="store_true", help="an example OpenAPI document instead")
    example.set_defaults(run=_tools_example)

    servers = groups.add_parser("servers", help="MCP servers").add_subparsers(
        dest="command", required=True, metavar="{list,host,assemble}")
    lst = servers.add_parser("list", help="list MCP servers")
    lst.add_argument("--name-like", help="only names containing this")
    lst.add_argument("--json", action="store_true", help="print the items as a JSON array")
    lst.set_defaults(run=_servers_list)
    host = servers.add_parser("host", help="put an existing MCP server behind the gateway")
    host.add_argument("name", help="the new server's name (its path is /mcp-servers/<name>)")
    host.add_argument("url", help="the upstream MCP server's URL, e.g. http://10.0.0.5:3000/mcp")
    host.add_argument("--transport", choices=("StreamableHTTP", "SSE"), default="StreamableHTTP",
                      help="what the upstream speaks (default %(default)s)")
    host.add_argument("--ca-file", help="PEM CA certificates to trust for an https upstream")
    host.add_argument("--bearer-env", metavar="VAR", help="send the token in this environment variable upstream")
    host.set_defaults(run=_servers_host)
    assemble = servers.add_parser("assemble", help="one server of tools drawn from others")
    assemble.add_argument("name", help="the new server's name")
    assemble.add_argument("sources", nargs="+", metavar="server[=tool,tool]",
                          help="a source server (name or id), optionally only the tools named")
    assemble.add_argument("--alias", action="append", metavar="server:tool=new",
                          help="expose a source's tool under another name (repeatable)")
    assemble.set_defaults(run=_servers_assemble)

    services = groups.add_parser("services", help="backend services").add_subparsers(
        dest="command", required=True, metavar="{list}")
    slist = services.add_parser("list", help="list services")
    slist.add_argument("--json", action="store_true", help="print the items as a JSON array")
    slist.set_defaults(run=_services_list)
    return top


async def _run(args: argparse.Namespace) -> None:
    headers = {"User-Agent": "mcpgw-cli"}
    token = os.environ.get("MCPGW_ADMIN_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    timeout = aiohttp.ClientTimeout(total=args.timeout, connect=min(args.timeout, 10.0))
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as http:
        await args.run(Admin(http, args.admin_url), args)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)  # exits 2 on a usage error
    try:
        asyncio.run(_run(args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
