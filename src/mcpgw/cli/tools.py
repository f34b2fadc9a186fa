"""`mcpgw tools get|put|import|example`: a server's tools document (`/v1/mcp-servers/{id}/tools`)."""

from __future__ import annotations

import argparse

import yaml

from mcpgw.cli import imports
from mcpgw.cli.client import SERVERS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.inputs import content_type, read
from mcpgw.cli.output import Output


async def _get(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    server_id = await admin.resolve(SERVERS, args.server)
    text = await admin.call("GET", path("/v1/mcp-servers", server_id, "tools"))
    if out.as_json:
        out.json(yaml.safe_load(text))
    else:
        out.text(text)


async def _put(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    raw = read(args.file)
    server_id = await admin.resolve(SERVERS, args.server)
    data = await admin.call("PUT", path("/v1/mcp-servers", server_id, "tools"), data=raw,
                            content_type=content_type(raw, args.file))
    if out.as_json:
        out.json(data)
        return
    names = data.get("tools") or []
    tools = "tool" if len(names) == 1 else "tools"
    lines = [f"Put {len(names)} {tools} into {args.server} (revision {data.get('revision')}): {out.names(names)}"]
    not_kept = data.get("notKept") or []
    if not_kept:
        lines.append(f"  a re-import of its OpenAPI document will replace these edits ({len(not_kept)}):")
        lines.extend(out.lines([f"{item.get('tool') or 'server'}: {', '.join(item.get('fields') or [])}"
                                for item in not_kept], "    "))
    out.text("\n".join(lines))


async def _import(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    raw = read(args.file)
    server_id = await admin.resolve(SERVERS, args.server)
    params: dict[str, str] = {}
    if args.base_url is not None:
        params["baseUrl"] = args.base_url
    if args.skip_deprecated:
        params["includeDeprecated"] = "false"
    if args.description_limit is not None:
        params["descriptionLimit"] = str(args.description_limit)
    action = "import:preview" if args.preview else "import"
    data = await admin.call("POST", path("/v1/mcp-servers", server_id, "tools", action), data=raw,
                            content_type=content_type(raw, args.file), params=params)
    if out.as_json:
        out.json(data)
    else:
        out.text(imports.summary(args.server, data, args.preview, out))


async def _example(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    text = await admin.call("GET", "/v1/mcp-servers/tools/import/example",
                            params={"kind": "openapi" if args.openapi else "tools"})
    out.text(text)


def register(commands: Commands) -> None:
    commands.group("tools", "the tools of an MCP server")
    get = commands.add("tools", "get", _get, "print a server's tools YAML (secrets shown as ******)")
    get.add_argument("server", help="name or mcp-… id")
    put = commands.add("tools", "put", _put, "replace a server's tools with a YAML (or JSON) document")
    put.add_argument("server", help="name or mcp-… id")
    put.add_argument("file", help="the tools document; - reads stdin")
    imp = commands.add("tools", "import", _import, "generate a server's tools from an OpenAPI/Swagger document")
    imp.add_argument("server", help="name or mcp-… id")
    imp.add_argument("file", help="the document (JSON or YAML); - reads stdin")
    imp.add_argument("--preview", action="store_true", help="show what would change; change nothing")
    imp.add_argument("--base-url", help="the backend's base URL instead of the document's servers")
    imp.add_argument("--skip-deprecated", action="store_true", help="leave deprecated operations out")
    imp.add_argument("--description-limit", type=int, metavar="N", help="characters per description")
    example = commands.add("tools", "example", _example, "print a commented tools YAML to start from")
    example.add_argument("--openapi", action="store_true", help="an example OpenAPI document instead")
