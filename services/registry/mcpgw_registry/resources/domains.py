"""The domain resource (reference §8): request bodies, the stored record, validation and the API view.

A domain is a host name MCP servers answer on: a server that names domains (`domainIds`) is served
by the edge only to requests whose `Host` is one of them. The name is stored canonical
(`mcpgw.hosts`: lowercase, no trailing dot), the form the edge compares with, and cannot change:
a server resolves its domains' names when it is written, so a rename would leave edges routing by
the old one. `protocol`, `forceHttps` and `certIdentifier` are kept and shown, not acted on: the
edge does not terminate TLS (whatever fronts it does).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from mcpgw.contracts.errors import invalid
from mcpgw.hosts import canonical_host
from mcpgw_registry.resources.validation import CONTROL, Body

MAX_NAME = 253
MAX_CERT = 256
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

DomainProtocol = Literal["HTTP", "HTTPS"]


class CreateDomain(Body):
    name: str
    protocol: DomainProtocol = "HTTP"
    force_https: bool = False
    cert_identifier: str = ""
    gateway_id: str = ""
    gateway_type: Literal["API", "AI"] | None = None


class UpdateDomain(Body):
    # Immutable, but accepted when unchanged so a client may send back what it read.
    name: str | UnsetType = UNSET
    protocol: DomainProtocol | UnsetType = UNSET
    force_https: bool | UnsetType = UNSET
    # null or "" removes it.
    cert_identifier: str | UnsetType | None = UNSET


class DomainRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What `domains.<id>` holds."""

    v: int = 1
    id: str
    name: str
    protocol: str = "HTTP"
    force_https: bool = False
    cert_identifier: str = ""
    gateway_id: str = ""
    gateway_type: str = ""
    created_ms: int = 0
    updated_ms: int = 0


def check_name(name: str, field: str = "name") -> str:
    """The canonical form of a domain name, or a 400 naming `field`."""
    if not name:
        raise invalid(field, "is required")
    if name.startswith("*"):
        raise invalid(field, "wildcard domains are not supported yet; name one host")
    canonical = name.strip().lower().rstrip(".")
    if canonical != canonical_host(canonical) or CONTROL.search(canonical):
        raise invalid(field, "must be a host name without a port, scheme or path")
    if len(canonical) > MAX_NAME:
        raise invalid(field, f"must be at most {MAX_NAME} characters")
    if not all(_LABEL.match(label) for label in canonical.split(".")):
        raise invalid(field, "must be a host name: labels of letters, digits and '-', separated by '.'")
    return canonical


def _check_cert(value: str) -> None:
    if len(value) > MAX_CERT or CONTROL.search(value):
        raise invalid("certIdentifier", f"must be at most {MAX_CERT} characters, without control characters")


def record_from_create(body: CreateDomain, domain_id: str, now_ms: int) -> DomainRecord:
    _check_cert(body.cert_identifier)
    return DomainRecord(id=domain_id, name=check_name(body.name), protocol=body.protocol,
                        force_https=body.force_https, cert_identifier=body.cert_identifier,
                        gateway_id=body.gateway_id, gateway_type=body.gateway_type or "",
                        created_ms=now_ms, updated_ms=now_ms)


def apply_update(record: DomainRecord, body: UpdateDomain, now_ms: int) -> DomainRecord:
    if not isinstance(body.name, UnsetType) and check_name(body.name) != record.name:
        raise invalid("name", "cannot be changed; create another domain")
    updated = msgspec.structs.replace(record, updated_ms=now_ms)
    if not isinstance(body.protocol, UnsetType):
        updated.protocol = body.protocol
    if not isinstance(body.force_https, UnsetType):
        updated.force_https = body.force_https
    if body.cert_identifier is None:
        updated.cert_identifier = ""
    elif not isinstance(body.cert_identifier, UnsetType):
        _check_cert(body.cert_identifier)
        updated.cert_identifier = body.cert_identifier
    return updated


def info(record: DomainRecord) -> dict[str, Any]:
    """A server's `domainInfos` item (reference §4.3)."""
    return {"domainId": record.id, "name": record.name, "protocol": record.protocol}


def to_resource(record: DomainRecord, revision: int, servers: list[dict[str, str]] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "domainId": record.id,
        "name": record.name,
        "protocol": record.protocol,
        "forceHttps": record.force_https,
        "certIdentifier": record.cert_identifier,
        "gatewayId": record.gateway_id,
        "status": "Published",
        "createFrom": "Console",
        "createTimestamp": record.created_ms,
        "updateTimestamp": record.updated_ms,
        "revision": revision,
    }
    if record.gateway_type:
        view["gatewayType"] = record.gateway_type
    if servers is not None:
        view["mcpServers"] = servers
    return view
