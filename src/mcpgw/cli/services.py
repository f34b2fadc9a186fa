"""`mcpgw services create|list|get|update|delete`: where upstream MCP servers are reached
(`/v1/services`): fixed addresses (VIP) or host names (DNS), each host:port."""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Sequence
from typing import Any

from mcpgw.cli.client import SERVICES, Admin, path
from mcpgw.cli.commands import Commands
from mcpgw.cli.errors import UsageError
from mcpgw.cli.inputs import read_text
from mcpgw.cli.output import Output, when


def source_type(addresses: Sequence[str]) -> str:
    """VIP when every address is an IP address, else DNS."""
    for address in addresses:
        host = address.rsplit(":", 1)[0].strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return "DNS"
    return "VIP"


def _row(item: dict[str, Any]) -> tuple[str, ...]:
    return (item["serviceId"], item["name"], str(item.get("sourceType", "")), str(item.get("protocol", "")),
            " ".join(item.get("addresses") or []))


async def _list(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    params = {"name": args.name} if args.name else {}
    if args.source_type:
        params["sourceType"] = args.source_type
    items = await admin.all_pages("/v1/services", params)
    out.listing(items, ("ID", "NAME", "SOURCE", "PROTOCOL", "ADDRESSES"), _row, empty="no services")


async def _get(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    service_id = await admin.resolve(SERVICES, args.service)
    service = await admin.call("GET", path("/v1/services", service_id))
    if out.as_json:
        out.json(service)
        return
    bundle = service.get("caBundle") or ""
    out.fields([
        ("ID", service["serviceId"]),
        ("Name", service["name"]),
        ("Source", str(service.get("sourceType", ""))),
        ("Protocol", str(service.get("protocol", ""))),
        ("Addresses", "\n".join(service.get("addresses") or [])),
        ("CA bundle", f"{bundle.count('BEGIN CERTIFICATE')} certificates" if bundle else ""),
        ("Revision", str(service.get("revision", ""))),
        ("Created", when(service.get("createTimestamp"))),
        ("Updated", when(service.get("updateTimestamp"))),
    ])


async def _create(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    config: dict[str, Any] = {"name": args.name, "addresses": args.addresses, "protocol": args.protocol}
    if args.ca_file:
        config["caBundle"] = read_text(args.ca_file)
    body = {"sourceType": args.source_type or source_type(args.addresses), "serviceConfigs": [config]}
    data = await admin.call("POST", "/v1/services", body=body)
    if out.as_json:
        out.json(data)
        return
    out.text(f"Created service {args.name} ({data['serviceIds'][0]}): {body['sourceType']} "
             f"{args.protocol} {' '.join(args.addresses)}")


async def _update(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    body: dict[str, Any] = {}
    if args.address:
        body["addresses"] = args.address
    if args.protocol:
        body["protocol"] = args.protocol
    if args.ca_file:
        body["caBundle"] = read_text(args.ca_file)
    elif args.no_ca:
        body["caBundle"] = None
    if not body:
        raise UsageError("services update: nothing to change; give at least one option (see --help)")
    service_id = await admin.resolve(SERVICES, args.service)
    data = await admin.call("PUT", path("/v1/services", service_id), body=body)
    out.done(data, f"Updated service {args.service} ({service_id}): revision {data.get('revision')}")


async def _delete(admin: Admin, args: argparse.Namespace, out: Output) -> None:
    service_id = await admin.resolve(SERVICES, args.service)
    await admin.call("DELETE", path("/v1/services", service_id))
    out.done({"serviceId": service_id}, f"Deleted service {args.service} ({service_id})")


def register(commands: Commands) -> None:
    commands.group("services", "services: where upstream MCP servers are reached")
    create = commands.add("services", "create", _create, "create a service")
    create.add_argument("name")
    create.add_argument("addresses", nargs="+", metavar="HOST:PORT")
    create.add_argument("--protocol", choices=("HTTP", "HTTPS"), default="HTTP", help="default %(default)s")
    create.add_argument("--source-type", choices=("VIP", "DNS"),
                        help="default: VIP when every address is an IP address, else DNS")
    create.add_argument("--ca-file", help="PEM CA certificates to trust for HTTPS, besides the system's")
    lst = commands.add("services", "list", _list, "list services")
    lst.add_argument("--name", help="only the service of this exact name")
    lst.add_argument("--source-type", choices=("VIP", "DNS"), help="only services of this source")
    get = commands.add("services", "get", _get, "show a service")
    get.add_argument("service", help="name or svc-… id")
    update = commands.add("services", "update", _update, "change a service (only the options given)")
    update.add_argument("service", help="name or svc-… id")
    update.add_argument("--address", action="append", metavar="HOST:PORT",
                        help="its addresses (repeatable; replaces them all)")
    update.add_argument("--protocol", choices=("HTTP", "HTTPS"))
    ca = update.add_mutually_exclusive_group()
    ca.add_argument("--ca-file", help="PEM CA certificates to trust for HTTPS")
    ca.add_argument("--no-ca", action="store_true", help="trust only the system's CAs again")
    delete = commands.add("services", "delete", _delete, "delete a service (refused while a server uses it)")
    delete.add_argument("service", help="name or svc-… id")
