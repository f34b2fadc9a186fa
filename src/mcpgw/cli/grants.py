"""`mcpgw grants add|list|revoke`: which consumer may use which server, or only some of its tools
(`/v1/authorization-rules`)."""

from __future__ import annotations

import argparse
from typing import Any

from mcpgw.cli.client import CONSUMERS, RULE_ID, SERVERS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.errors import NotFound, UsageError
from mcpgw.cli.inputs import expiry_ms
from mcpgw.cli.output import Output, when


def _tools(parts: list[str]) -> list[str]:
    return [t for part in parts for t in part.split(",") if t]


async def _add(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    tools = _tools(args.tools or [])
    consumer_id = await admin.resolve(CONSUMERS, args.consumer)
    server_id = await admin.resolve(SERVERS, args.server)
    identifier: dict[str, Any] = {"resourceId": server_id}
    if tools:
        identifier["resources"] = tools
    rule: dict[str, Any] = {"consumerId": consumer_id, "resourceType": "MCP", "resourceIdentifier": identifier,
                            "expireMode": "LongTerm"}
    if args.expires is not None:
        rule.update(expireMode="ShortTerm", expireTimestamp=args.expires)
    data = await admin.call("POST", "/v1/authorization-rules", body={"authorizationRules": [rule]})
    if out.as_json:
        out.json(data)
        return
    what = f"the tools {', '.join(tools)} of" if tools else "every tool of"
    until = f" until {when(args.expires)}" if args.expires is not None else ""
    out.text(f"Granted {args.consumer} {what} {args.server}{until} (rule {data['consumerAuthorizationRuleIds'][0]})")


async def _rules(admin: Admin, args: argparse.Namespace) -> list[dict[str, Any]]:
    params: dict[str, str] = {}
    if args.consumer:
        params["consumerId"] = await admin.resolve(CONSUMERS, args.consumer)
    if args.server:
        params["resourceId"] = await admin.resolve(SERVERS, args.server)
    return await admin.all_pages("/v1/authorization-rules", params)


def _row(rule: dict[str, Any]) -> tuple[str, ...]:
    tools = (rule.get("resourceIdentifier") or {}).get("resources")
    return (rule["consumerAuthorizationRuleId"],
            (rule.get("consumerInfo") or {}).get("name") or rule.get("consumerId", ""),
            (rule.get("resourceInfo") or {}).get("mcpServerName") or rule.get("resourceId", ""),
            ", ".join(tools) if tools else "*",
            when(rule.get("expireTimestamp")) or "never",
            str(rule.get("expireStatus", "")))


async def _list(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    rules = await _rules(admin, args)
    if out.as_json:
        out.json(rules)
        return
    out.table(("RULE", "CONSUMER", "SERVER", "TOOLS", "EXPIRES", "STATUS"), [_row(r) for r in rules],
              empty="no grants")


async def _revoke(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    if args.rules and (args.consumer or args.server):
        raise UsageError("grants revoke: give rule ids, or --consumer/--server, not both")
    if args.rules:
        bad = [r for r in args.rules if not RULE_ID.match(r)]
        if bad:
            raise UsageError(f"{bad[0]}: not a rule id (car-…); `mcpgw grants list` shows them")
        ids = list(dict.fromkeys(args.rules))
    elif args.consumer or args.server:
        ids = [r["consumerAuthorizationRuleId"] for r in await _rules(admin, args)]
        if not ids:
            raise NotFound("no grants match " + " and ".join(
                f"{flag} {value}" for flag, value in (("--consumer", args.consumer), ("--server", args.server))
                if value))
    else:
        raise UsageError("grants revoke: give rule ids, or --consumer and/or --server")
    # One request: all of them or none.
    await admin.call("DELETE", "/v1/authorization-rules", params={"consumerAuthorizationRuleIds": ",".join(ids)})
    out.done({"consumerAuthorizationRuleIds": ids},
             f"Revoked {len(ids)} grant{'s' if len(ids) != 1 else ''}: {out.names(ids)}")


async def _update(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    if not RULE_ID.match(args.rule):
        raise UsageError(f"{args.rule}: not a rule id (car-…); `mcpgw grants list` shows them")
    if args.tools is None and not args.all_tools and args.expires is None and not args.never_expires:
        raise UsageError("grants update: nothing to change; give at least one option (see --help)")
    rule = await admin.call("GET", path("/v1/authorization-rules", args.rule))
    body: dict[str, Any] = {}
    if args.tools is not None or args.all_tools:
        identifier: dict[str, Any] = {"resourceId": rule["resourceId"]}
        if args.tools is not None:
            identifier["resources"] = _tools(args.tools)
        body["authorizationResourceInfos"] = [identifier]
    if args.expires is not None:
        body.update(expireMode="ShortTerm", expireTimestamp=args.expires)
    elif args.never_expires:
        body.update(expireMode="LongTerm", expireTimestamp=None)
    # Only one consumer's rules can be changed, under that consumer.
    data = await admin.call("PUT", path("/v1/consumers", rule["consumerId"], "authorization-rules", args.rule),
                            body=body)
    out.done(data, f"Updated grant {args.rule}: revision {data.get('revision')}")


def register(commands: Commands) -> None:
    commands.group("grants", "grants: a consumer may use a server, or some of its tools")
    add = commands.add("grants", "add", _add, "let a consumer use a server (or only some tools)")
    add.add_argument("consumer", help="name or cs-… id")
    add.add_argument("server", help="name or mcp-… id")
    add.add_argument("--tools", action="append", metavar="TOOL[,TOOL]",
                     help="only these tools (repeatable); without it, every tool of the server")
    add.add_argument("--expires", type=expiry_ms, metavar="WHEN",
                     help="end it: 7d, 12h, 30m from now, or an ISO 8601 time (default: never)")
    lst = commands.add("grants", "list", _list, "list grants")
    lst.add_argument("--consumer", help="only this consumer's (name or id)")
    lst.add_argument("--server", help="only those for this server (name or id)")
    update = commands.add("grants", "update", _update, "change which tools a grant covers, or its expiry")
    update.add_argument("rule", metavar="RULE_ID", help="car-… id")
    covers = update.add_mutually_exclusive_group()
    covers.add_argument("--tools", action="append", metavar="TOOL[,TOOL]", help="only these tools (repeatable)")
    covers.add_argument("--all-tools", action="store_true", help="every tool of the server")
    ends = update.add_mutually_exclusive_group()
    ends.add_argument("--expires", type=expiry_ms, metavar="WHEN", help="7d, 12h, 30m from now, or an ISO 8601 time")
    ends.add_argument("--never-expires", action="store_true", help="no end")
    revoke = commands.add("grants", "revoke", _revoke, "revoke grants: by rule id, or all of a consumer/server")
    revoke.add_argument("rules", nargs="*", metavar="RULE_ID", help="car-… ids (all or none are revoked)")
    revoke.add_argument("--consumer", help="every grant of this consumer (with --server: for that server)")
    revoke.add_argument("--server", help="every grant for this server")
