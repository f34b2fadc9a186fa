"""`mcpgw servers deploy|undeploy|revisions|rollback`: publishing a server's draft, and its published
revisions (`/v1/mcp-servers/{id}/deploy`, `…/undeploy`, `…/revisions`, `…/revisions/{n}:rollback`)."""

from __future__ import annotations

import argparse

from mcpgw.cli.client import SERVERS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.output import Output, when


async def _set(admin: Admin, args: argparse.Namespace, out: Output, action: str) -> None:
    server_id = await admin.resolve(SERVERS, args.server)
    data = await admin.call("POST", path("/v1/mcp-servers", server_id, action))
    out.done(data, f"MCP server {args.server} ({server_id}): {data['deployStatus']}")


async def _deploy(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    await _set(admin, args, out, "deploy")


async def _undeploy(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    await _set(admin, args, out, "undeploy")


async def _revisions(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    server_id = await admin.resolve(SERVERS, args.server)
    if args.n is not None:
        data = await admin.call("GET", path("/v1/mcp-servers", server_id, "revisions", str(args.n)))
        if out.as_json:
            out.json(data)
            return
        diff = data["diff"]
        changed = ", ".join(diff["fields"]) or "none"
        against = f"revision {diff['against']}" if diff["against"] is not None else "nothing (the first kept)"
        out.text(f"Revision {data['revision']} of {args.server}, published {when(data['createTimestamp'])}\n"
                 f"Against {against}; fields changed: {changed}")
        secrets = diff.get("secrets") or []
        if secrets:  # which secrets changed, never their values
            out.text("Secrets: " + ", ".join(f"{s['place']} {s['change']}" for s in secrets))
        if diff["tools"]:
            out.text(diff["tools"].rstrip("\n"))
        return
    data = await admin.call("GET", path("/v1/mcp-servers", server_id, "revisions"))
    if out.as_json:
        out.json(data)
        return
    rows = [(str(item["revision"]), when(item["createTimestamp"]),
             f"rollback of {item['rollbackOf']}" if "rollbackOf" in item else "") for item in data["items"]]
    out.table(("REVISION", "PUBLISHED", "NOTE"), rows, empty=f"no revisions kept ({data['deployStatus']})")


async def _rollback(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    server_id = await admin.resolve(SERVERS, args.server)
    # The path's last segment is `<n>:rollback`, one segment (the colon is not quoted away).
    data = await admin.call("POST", path("/v1/mcp-servers", server_id, "revisions") + f"/{args.n}:rollback")
    if out.as_json:
        out.json(data)
        return
    out.text(f"Rolled {args.server} ({server_id}) back to revision {args.n}: published as revision "
             f"{data['published']}")


def register(commands: Commands) -> None:
    commands.group("servers", "MCP servers")
    deploy = commands.add("servers", "deploy", _deploy,
                          "publish the server's draft (`servers update --draft`): the edge serves it")
    deploy.add_argument("server", help="name or mcp-… id")
    undeploy = commands.add("servers", "undeploy", _undeploy,
                            "stop serving a server (the edge answers 404); its config stays")
    undeploy.add_argument("server", help="name or mcp-… id")
    revisions = commands.add("servers", "revisions", _revisions,
                             "list a server's published revisions, or show one with its diff")
    revisions.add_argument("server", help="name or mcp-… id")
    revisions.add_argument("n", nargs="?", type=int, help="a revision number: show it and what it changed")
    rollback = commands.add("servers", "rollback", _rollback, "publish an earlier revision again")
    rollback.add_argument("server", help="name or mcp-… id")
    rollback.add_argument("n", type=int, help="the revision to publish")
