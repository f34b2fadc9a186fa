"""`mcpgw domains create|list|get|update|delete`: host names MCP servers answer on (`/v1/domains`).

A server that names domains (`mcpgw servers update NAME --domain HOST`) is served only to requests
for those hosts; one domain serves one server.
"""

from __future__ import annotations

import argparse
from typing import Any

from mcpgw.cli.client import DOMAINS, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.errors import UsageError
from mcpgw.cli.output import Output, when


def _row(item: dict[str, Any]) -> tuple[str, ...]:
    return (item["domainId"], item["name"], str(item.get("protocol", "")),
            "yes" if item.get("forceHttps") else "no", str(item.get("certIdentifier") or ""))


async def resolve(admin: Admin, ref: str) -> str:
    """A domain's id from its id or its host name (names are stored lowercase)."""
    return await admin.resolve(DOMAINS, ref if DOMAINS.id_shape.match(ref) else ref.lower().rstrip("."))


async def _list(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    items = await admin.all_pages("/v1/domains", {"nameLike": args.name_like} if args.name_like else {})
    out.listing(items, ("ID", "NAME", "PROTOCOL", "FORCE HTTPS", "CERTIFICATE"), _row, empty="no domains")


async def _get(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    domain = await admin.call("GET", path("/v1/domains", await resolve(admin, args.domain)))
    if out.as_json:
        out.json(domain)
        return
    out.fields([
        ("ID", domain["domainId"]),
        ("Name", domain["name"]),
        ("Protocol", str(domain.get("protocol", ""))),
        ("Force HTTPS", "yes" if domain.get("forceHttps") else "no"),
        ("Certificate", str(domain.get("certIdentifier") or "")),
        ("MCP server", " ".join(f"{s['name']} ({s['mcpServerId']})" for s in domain.get("mcpServers") or [])),
        ("Revision", str(domain.get("revision", ""))),
        ("Created", when(domain.get("createTimestamp"))),
        ("Updated", when(domain.get("updateTimestamp"))),
    ])


async def _create(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    body: dict[str, Any] = {"name": args.name, "protocol": args.protocol, "forceHttps": args.force_https}
    if args.cert:
        body["certIdentifier"] = args.cert
    data = await admin.call("POST", "/v1/domains", body=body)
    out.done(data, f"Created domain {args.name} ({data['domainId']})")


async def _update(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    body: dict[str, Any] = {}
    if args.protocol:
        body["protocol"] = args.protocol
    if args.force_https is not None:
        body["forceHttps"] = args.force_https
    if args.cert:
        body["certIdentifier"] = args.cert
    elif args.no_cert:
        body["certIdentifier"] = None
    if not body:
        raise UsageError("domains update: nothing to change; give at least one option (see --help)")
    domain_id = await resolve(admin, args.domain)
    data = await admin.call("PUT", path("/v1/domains", domain_id), body=body)
    out.done(data, f"Updated domain {args.domain} ({domain_id}): revision {data.get('revision')}")


async def _delete(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    domain_id = await resolve(admin, args.domain)
    await admin.call("DELETE", path("/v1/domains", domain_id))
    out.done({"domainId": domain_id}, f"Deleted domain {args.domain} ({domain_id})")


def register(commands: Commands) -> None:
    commands.group("domains", "domains: host names MCP servers answer on")
    create = commands.add("domains", "create", _create, "create a domain")
    create.add_argument("name", help="the host name, e.g. api.example.com")
    create.add_argument("--protocol", choices=("HTTP", "HTTPS"), default="HTTP", help="default %(default)s")
    create.add_argument("--force-https", action="store_true", help="recorded; the edge does not redirect")
    create.add_argument("--cert", help="the certificate's identifier (recorded; TLS ends before the edge)")
    lst = commands.add("domains", "list", _list, "list domains")
    lst.add_argument("--name-like", help="only names containing this text")
    get = commands.add("domains", "get", _get, "show a domain and the server using it")
    get.add_argument("domain", help="host name or d-… id")
    update = commands.add("domains", "update", _update, "change a domain (only the options given; not its name)")
    update.add_argument("domain", help="host name or d-… id")
    update.add_argument("--protocol", choices=("HTTP", "HTTPS"))
    force = update.add_mutually_exclusive_group()
    force.add_argument("--force-https", dest="force_https", action="store_true", default=None)
    force.add_argument("--no-force-https", dest="force_https", action="store_false")
    cert = update.add_mutually_exclusive_group()
    cert.add_argument("--cert", help="the certificate's identifier")
    cert.add_argument("--no-cert", action="store_true", help="remove the certificate's identifier")
    delete = commands.add("domains", "delete", _delete, "delete a domain (refused while a server uses it)")
    delete.add_argument("domain", help="host name or d-… id")
