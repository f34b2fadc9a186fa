"""`mcpgw consumers create|list|get|update|delete`: who may call servers with consumer auth on
(`/v1/consumers`): API keys (shown once, when made) and JWT settings."""

from __future__ import annotations

import argparse
from typing import Any

from mcpgw.cli.client import CONSUMERS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.errors import CliError, UsageError
from mcpgw.cli.inputs import read_mapping, secret_from_env
from mcpgw.cli.output import Output, on_off, when

KEY_SHOWN_ONCE = "shown only now: the gateway keeps its sha256 digest, not the key"


def _source(args: argparse.Namespace) -> dict[str, str] | None:
    """Where clients send the key, from --key-header / --key-query / --key-default."""
    if args.key_header:
        return {"source": "Header", "value": args.key_header}
    if args.key_query:
        return {"source": "QueryString", "value": args.key_query}
    if getattr(args, "key_default", False):
        return {"source": "Default"}
    return None


def _new_key(args: argparse.Namespace) -> dict[str, str]:
    if args.api_key_env:
        return {"generateMode": "Custom", "apikey": secret_from_env(args.api_key_env, "--api-key-env")}
    return {"generateMode": "System"}


def fresh_keys(data: dict[str, Any]) -> list[str]:
    """The plaintext keys a create/update answer carries (kept keys come back masked, ending in …)."""
    credentials = (data.get("apikeyIdentityConfig") or {}).get("credentials") or []
    return [str(c["apikey"]) for c in credentials if c.get("apikey") and not str(c["apikey"]).endswith("…")]


def _show_keys(data: dict[str, Any], args: argparse.Namespace, out: Output, head: str) -> None:
    keys = fresh_keys(data)
    if args.print_key:
        if not keys:
            raise CliError("--print-key: this request made no new API key")
        out.text("\n".join(keys))
        return
    out.text(head)
    for key in keys:
        out.text(f"  API key  {key}\n           ({KEY_SHOWN_ONCE})")


async def _create(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    if args.no_api_key and (args.api_key_env or args.key_header or args.key_query):
        raise UsageError("--no-api-key: then --api-key-env, --key-header and --key-query have nothing to apply to")
    body: dict[str, Any] = {"name": args.name, "enable": not args.disabled}
    if args.description is not None:
        body["description"] = args.description
    if not args.no_api_key:
        body["apikeyIdentityConfig"] = {"type": "Apikey", "apikeySource": _source(args) or {"source": "Default"},
                                        "credentials": [_new_key(args)]}
    if args.jwt_config:
        body["jwtIdentityConfig"] = read_mapping(args.jwt_config, "--jwt-config")
    data = await admin.call("POST", "/v1/consumers", body=body)
    if out.as_json:
        out.json(data)
        return
    _show_keys(data, args, out, f"Created consumer {data['name']} ({data['consumerId']})")


def _key_source(source: dict[str, Any]) -> str:
    kind, value = source.get("source", "Default"), source.get("value", "")
    if kind == "Header":
        return f"header {value}"
    if kind == "QueryString":
        return f"query parameter {value}"
    return "Authorization: Bearer"


def _jwt(config: dict[str, Any] | None) -> str:
    if not config:
        return ""
    parts = [str(config.get("secretType") or "")]
    for label, key in (("issuer", "issuer"), ("audience", "audience")):
        if config.get(key):
            parts.append(f"{label} {config[key]}")
    remote = (config.get("remoteJwks") or {}).get("uri")
    if remote:
        parts.append(f"keys from {remote}")
    return ", ".join(p for p in parts if p)


def grant_line(rule: dict[str, Any]) -> str:
    server = (rule.get("resourceInfo") or {}).get("mcpServerName") or rule.get("resourceId", "?")
    tools = (rule.get("resourceIdentifier") or {}).get("resources")
    expiry = f", until {when(rule.get('expireTimestamp'))}" if rule.get("expireTimestamp") else ""
    status = "" if rule.get("expireStatus", "InEffect") == "InEffect" else f" [{rule['expireStatus']}]"
    what = ", ".join(tools) if tools else "every tool"
    return f"{server}: {what}{expiry}{status} ({rule['consumerAuthorizationRuleId']})"


async def _get(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    consumer_id = await admin.resolve(CONSUMERS, args.consumer)
    consumer = await admin.call("GET", path("/v1/consumers", consumer_id))
    rules = await admin.all_pages(path("/v1/consumers", consumer_id, "authorization-rules"))
    if out.as_json:
        out.json({**consumer, "authorizationRules": rules})
        return
    keys = consumer.get("apiKeyIdentityConfig") or {}
    out.fields([
        ("ID", consumer["consumerId"]),
        ("Name", consumer["name"]),
        ("Description", consumer.get("description", "")),
        ("Enabled", on_off(consumer.get("enable"))),
        (f"API keys ({len(keys.get('credentials') or [])})", "\n".join(
            f"{c['credentialId']}  {c['apikey']}  {c.get('generateMode', '')}  {when(c.get('createTimestamp'))}"
            for c in keys.get("credentials") or [])),
        ("Key sent in", _key_source(keys.get("apikeySource") or {}) if keys else ""),
        ("JWT", _jwt(consumer.get("jwtIdentityConfig"))),
        (f"Grants ({len(rules)})", "\n".join(out.lines([grant_line(r) for r in rules], "")) or "none"),
        ("Created", when(consumer.get("createTimestamp"))),
        ("Updated", when(consumer.get("updateTimestamp"))),
    ])


async def _list(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    items = await admin.all_pages("/v1/consumers", {"nameLike": args.name_like} if args.name_like else None)
    out.listing(items, ("ID", "NAME", "ENABLED", "DESCRIPTION"), lambda item: (
        item["consumerId"], item["name"], on_off(item.get("enable")), item.get("description", "")),
        empty="no consumers")


async def _apikey_update(admin: Admin, consumer_id: str, args: argparse.Namespace) -> dict[str, Any] | None:
    """`apikeyIdentityConfig` for an update: the keys kept (by credentialId), removed and added."""
    if args.no_api_key:
        return None
    current = (await admin.call("GET", path("/v1/consumers", consumer_id))).get("apiKeyIdentityConfig") or {}
    known = [c["credentialId"] for c in current.get("credentials") or []]
    unknown = sorted(set(args.remove_key or []) - set(known))
    if unknown:
        raise UsageError(f"--remove-key {unknown[0]}: this consumer has no such key "
                         f"(it has {', '.join(known) or 'none'})")
    kept = [] if args.rotate_key else [c for c in known if c not in (args.remove_key or [])]
    credentials: list[dict[str, str]] = [{"credentialId": c} for c in kept]
    if args.new_key or args.rotate_key or args.api_key_env:
        credentials.append(_new_key(args))
    return {"type": "Apikey", "apikeySource": _source(args) or current.get("apikeySource") or {"source": "Default"},
            "credentials": credentials}


async def _update(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    body: dict[str, Any] = {}
    if args.description is not None:
        body["description"] = args.description
    if args.enable is not None:
        body["enable"] = args.enable
    if args.jwt_config:
        body["jwtIdentityConfig"] = read_mapping(args.jwt_config, "--jwt-config")
    elif args.no_jwt:
        body["jwtIdentityConfig"] = None
    key_change = (args.no_api_key or args.new_key or args.rotate_key or args.api_key_env or args.remove_key
                  or _source(args) is not None)
    if not body and not key_change:
        raise UsageError("consumers update: nothing to change; give at least one option (see --help)")
    consumer_id = await admin.resolve(CONSUMERS, args.consumer)
    if key_change:
        body["apikeyIdentityConfig"] = await _apikey_update(admin, consumer_id, args)
    data = await admin.call("PUT", path("/v1/consumers", consumer_id), body=body)
    if out.as_json:
        out.json(data)
        return
    _show_keys(data, args, out, f"Updated consumer {args.consumer} ({consumer_id}): revision {data.get('revision')}")


async def _delete(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    consumer_id = await admin.resolve(CONSUMERS, args.consumer)
    await admin.call("DELETE", path("/v1/consumers", consumer_id))
    out.done({"consumerId": consumer_id},
             f"Deleted consumer {args.consumer} ({consumer_id}), its grants and upstream credentials")


def _key_options(parser: argparse.ArgumentParser, updating: bool) -> None:
    group = parser.add_argument_group("API keys")
    group.add_argument("--api-key-env", metavar="VAR",
                       help="a key of your own, from this environment variable (16-256 printable characters)")
    if updating:
        group.add_argument("--new-key", action="store_true", help="add a system-generated key (shown once)")
        group.add_argument("--rotate-key", action="store_true", help="replace every key with a new one")
        group.add_argument("--remove-key", action="append", metavar="CREDENTIAL_ID", help="drop this key (repeatable)")
    group.add_argument("--no-api-key", action="store_true",
                       help="no API key (e.g. JWT only)" if not updating else "remove every API key")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--key-header", metavar="NAME", help="clients send the key in this header")
    where.add_argument("--key-query", metavar="NAME", help="clients send the key in this query parameter")
    if updating:
        where.add_argument("--key-default", action="store_true", help="clients send Authorization: Bearer <key>")
    group.add_argument("--print-key", action="store_true", help="print only the new key (KEY=$(mcpgw ...))")
    parser.add_argument("--jwt-config", metavar="FILE",
                        help="jwtIdentityConfig as a JSON/YAML file (see the README's JWT section)")


def register(commands: Commands) -> None:
    commands.group("consumers", "consumers: who may call servers with consumer auth on")
    create = commands.add("consumers", "create", _create, "create a consumer, by default with a new API key")
    create.add_argument("name")
    create.add_argument("--description")
    create.add_argument("--disabled", action="store_true", help="create it disabled")
    _key_options(create, updating=False)
    lst = commands.add("consumers", "list", _list, "list consumers")
    lst.add_argument("--name-like", help="only names containing this (any case)")
    get = commands.add("consumers", "get", _get, "show a consumer: its keys (masked), JWT settings and grants")
    get.add_argument("consumer", help="name or cs-… id")
    update = commands.add("consumers", "update", _update, "change a consumer (only the options given)")
    update.add_argument("consumer", help="name or cs-… id")
    update.add_argument("--description")
    enable = update.add_mutually_exclusive_group()
    enable.add_argument("--enable", dest="enable", action="store_const", const=True, help="let it call again")
    enable.add_argument("--disable", dest="enable", action="store_const", const=False,
                        help="refuse its credentials (kept for later)")
    update.set_defaults(enable=None)
    _key_options(update, updating=True)
    update.add_argument("--no-jwt", action="store_true", help="remove its JWT settings")
    delete = commands.add("consumers", "delete", _delete, "delete a consumer, its grants and upstream credentials")
    delete.add_argument("consumer", help="name or cs-… id")
