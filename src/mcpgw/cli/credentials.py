"""`mcpgw credentials set|get|delete`: a consumer's own credential for a hosted server's upstream
(`/v1/mcp-servers/{id}/consumers/{consumerId}/upstream-credential`): with one, that consumer reaches
the upstream as itself. Write-only: reading shows its type and where it goes, never the secret."""

from __future__ import annotations

import argparse
from typing import Any

from mcpgw.cli.client import CONSUMERS, SERVERS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.errors import UsageError
from mcpgw.cli.hosting import credential_options, upstream_credential
from mcpgw.cli.output import Output


async def _where(admin: Admin, args: argparse.Namespace) -> str:
    server_id = await admin.resolve(SERVERS, args.server)
    consumer_id = await admin.resolve(CONSUMERS, args.consumer)
    return path("/v1/mcp-servers", server_id, "consumers", consumer_id, "upstream-credential")


def described(credential: dict[str, Any]) -> str:
    details = [f"{k} {v}" for k, v in credential.items() if k not in ("type", "configured")]
    return f"{credential.get('type')} ({', '.join(details) or 'configured'}; write-only)"


async def _set(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    credential = upstream_credential(args)
    if credential is None:
        raise UsageError("credentials set: give the credential (--bearer-env, --api-key-env or --basic-user)")
    data = await admin.call("PUT", await _where(admin, args), body=credential)
    if out.as_json:
        out.json(data)
        return
    shown = described(data["upstreamCredential"])
    out.text(f"{args.consumer} reaches the upstream of {args.server} with its own {shown}")


async def _get(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    data = await admin.call("GET", await _where(admin, args))
    out.done(data, described(data["upstreamCredential"]))


async def _delete(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    await admin.call("DELETE", await _where(admin, args))
    out.done({}, f"Deleted the credential of {args.consumer} for {args.server}: it uses the server's own again")


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="a hosted server: name or mcp-… id")
    parser.add_argument("consumer", help="name or cs-… id")


def register(commands: Commands) -> None:
    commands.group("credentials", "a consumer's own credential for a hosted server's upstream")
    put = commands.add("credentials", "set", _set, "set (or replace) a consumer's upstream credential")
    _target(put)
    credential_options(put)
    _target(commands.add("credentials", "get", _get, "show a consumer's upstream credential (never the secret)"))
    _target(commands.add("credentials", "delete", _delete, "delete a consumer's upstream credential"))
