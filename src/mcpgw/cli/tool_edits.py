"""`mcpgw tools edit|imported|detach`: the operator's edits of imported tools, which a re-import keeps
(`PATCH /v1/mcp-servers/{id}/tools/{name}`), what the last import recorded (`GET .../tools/import`),
and cutting the tools loose from their document (`DELETE .../tools/import`)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mcpgw.cli.client import SERVERS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.errors import UsageError
from mcpgw.cli.output import Output, when


def _value(text: str) -> Any:
    """A default as typed: JSON when it parses (42, true, "x", [1]), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def patch(args: argparse.Namespace) -> dict[str, Any]:
    """The PATCH body from the options; null clears an override (back to what the document says)."""
    body: dict[str, Any] = {}
    if args.rename is not None or args.reset_name:
        body["name"] = args.rename
    if args.description is not None or args.reset_description:
        body["description"] = args.description
    if args.disabled is not None:
        body["disabled"] = args.disabled
    arguments: dict[str, dict[str, Any]] = {}
    for item in args.default or []:
        name, sep, value = item.partition("=")
        if not name or not sep:
            raise UsageError(f"--default {item}: expected ARG=VALUE")
        arguments.setdefault(name, {})["default"] = _value(value)
    for name in args.reset_default or []:
        arguments.setdefault(name, {})["default"] = None
    for name in args.hide or []:
        arguments.setdefault(name, {})["hidden"] = True
    for name in args.show or []:
        arguments.setdefault(name, {})["hidden"] = None
    if arguments:
        body["args"] = arguments
    if not body:
        raise UsageError("tools edit: nothing to change; give at least one option (see --help)")
    return body


async def _edit(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    body = patch(args)
    server_id = await admin.resolve(SERVERS, args.server)
    data = await admin.call("PATCH", path("/v1/mcp-servers", server_id, "tools", args.tool), body=body)
    if out.as_json:
        out.json(data)
        return
    kept = json.dumps(data.get("override") or {}, ensure_ascii=False)
    out.text(f"Edited tool {data['tool']} of {args.server} (revision {data['revision']}); kept across "
             f"re-imports: {kept}")


async def _imported(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    server_id = await admin.resolve(SERVERS, args.server)
    data = await admin.call("GET", path("/v1/mcp-servers", server_id, "tools", "import"))
    if out.as_json:
        out.json(data)
        return
    if not data.get("imported"):
        out.text(f"{args.server}: its tools were not imported from an OpenAPI document")
        return
    options = ", ".join(f"{k} {v}" for k, v in (data.get("options") or {}).items() if v is not None)
    overrides = data.get("overrides") or {}
    out.fields([
        ("Imported", when(data.get("importTimestamp"))),
        ("Operations", str(data.get("operations", ""))),
        ("Options", options),
        (f"Edits ({len(overrides)})", "\n".join(out.lines(
            [f"{source}: {json.dumps(edit, ensure_ascii=False)}" for source, edit in overrides.items()], ""))
         or "none"),
        ("Server edits", json.dumps(data["serverOverrides"], ensure_ascii=False) if data.get("serverOverrides")
         else ""),
    ])


async def _detach(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    server_id = await admin.resolve(SERVERS, args.server)
    data = await admin.call("DELETE", path("/v1/mcp-servers", server_id, "tools", "import"))
    if out.as_json:
        out.json(data)
        return
    out.text(f"Detached the tools of {args.server} from their OpenAPI document (revision {data['revision']}): "
             "they stay as they are, a later import starts afresh")


def register(commands: Commands) -> None:
    edit = commands.add("tools", "edit", _edit,
                        "edit an imported tool; a re-import keeps the edit (only the options given)")
    edit.add_argument("server", help="name or mcp-… id")
    edit.add_argument("tool", help="the tool's current name")
    name = edit.add_mutually_exclusive_group()
    name.add_argument("--rename", metavar="NEW", help="a new name clients see")
    name.add_argument("--reset-name", action="store_true", help="the name the document gives again")
    description = edit.add_mutually_exclusive_group()
    description.add_argument("--description")
    description.add_argument("--reset-description", action="store_true", help="the document's description again")
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--disable", dest="disabled", action="store_const", const=True, help="hide it from clients")
    state.add_argument("--enable", dest="disabled", action="store_const", const=False, help="offer it again")
    edit.set_defaults(disabled=None)
    edit.add_argument("--default", action="append", metavar="ARG=VALUE",
                      help="a default for an argument (VALUE as JSON when it parses, else text; repeatable)")
    edit.add_argument("--reset-default", action="append", metavar="ARG", help="drop an argument's default")
    edit.add_argument("--hide", action="append", metavar="ARG",
                      help="leave an argument out of the tool's inputSchema; it is always sent with its default")
    edit.add_argument("--show", action="append", metavar="ARG", help="offer a hidden argument again")
    imported = commands.add("tools", "imported", _imported, "what a server's last OpenAPI import recorded, "
                                                            "with the edits a re-import keeps")
    imported.add_argument("server", help="name or mcp-… id")
    detach = commands.add("tools", "detach", _detach, "cut a server's tools loose from their OpenAPI document")
    detach.add_argument("server", help="name or mcp-… id")
