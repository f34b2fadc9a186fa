"""The service resource (reference §9): request bodies, the stored record, validation and the API view.

A service is where an upstream MCP server is reached: fixed addresses (`VIP`) or host names
(`DNS`), each `host:port`, over HTTP or HTTPS. HTTPS certificates are always verified, against the
system's CAs plus the service's own `caBundle` when it has one; there is no way to skip that.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from mcpgw.contracts.errors import invalid
from mcpgw_registry.resources.validation import Body, join

MAX_NAME = 64
MAX_ADDRESSES = 64
MAX_CA_BUNDLE = 256 * 1024
# Letters, digits, '-', '_' and '.': the name is also a KV key (its claim) and shows in logs.
NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
SUPPORTED_SOURCES = ("VIP", "DNS")
# The reference's other source types: named so their refusal can say "not supported yet".
KNOWN_SOURCES = ("MSE_NACOS", "K8S", "VIP", "DNS", "FC3", "SAE_K8S_SERVICE", "AI", "AGENT")

ServiceProtocol = Literal["HTTP", "HTTPS"]


class ServiceConfig(Body):
    name: str
    addresses: list[str] = []
    protocol: ServiceProtocol = "HTTP"
    # PEM certificates trusted for this service's HTTPS, besides the system's.
    ca_bundle: str = ""


class CreateServices(Body):
    source_type: str
    service_configs: list[ServiceConfig]
    gateway_id: str = ""
    resource_group_id: str = ""


class UpdateService(Body):
    addresses: list[str] | UnsetType = UNSET
    protocol: ServiceProtocol | UnsetType = UNSET
    # null or "" removes it.
    ca_bundle: str | UnsetType | None = UNSET


class ServiceRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What `services.<id>` holds."""

    v: int = 1
    id: str
    name: str
    source_type: str
    addresses: list[str] = []
    protocol: str = "HTTP"
    ca_bundle: str = ""
    gateway_id: str = ""
    resource_group_id: str = ""
    created_ms: int = 0
    updated_ms: int = 0


def check_source_type(source_type: str) -> None:
    if source_type in SUPPORTED_SOURCES:
        return
    if source_type in KNOWN_SOURCES:
        raise invalid("sourceType", f"source type {source_type} is not supported yet; "
                                    f"use {' or '.join(SUPPORTED_SOURCES)}")
    raise invalid("sourceType", f"unknown value {source_type!r}; expected {', '.join(SUPPORTED_SOURCES)}")


def check_name(name: str, field: str) -> None:
    if not name:
        raise invalid(field, "is required")
    if len(name) > MAX_NAME:
        raise invalid(field, f"must be at most {MAX_NAME} characters")
    if not NAME_RE.match(name):
        raise invalid(field, "must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit")


def split_address(address: str) -> tuple[str, int]:
    """(host, port) of a `host:port`; ValueError with the reason otherwise."""
    if "://" in address or "/" in address:
        raise ValueError("must be host:port, without a scheme or a path")
    if address.startswith("["):
        host, sep, port = address[1:].partition("]:")
        if not sep:
            raise ValueError("must be [IPv6 address]:port")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
    else:
        host, sep, port = address.rpartition(":")
        if not sep:
            raise ValueError("must be host:port (the port is required)")
        if ":" in host:
            raise ValueError("must put an IPv6 address in brackets: [address]:port")
    if not host:
        raise ValueError("must name a host before the ':'")
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError("must end in a port between 1 and 65535")
    return host, int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_addresses(addresses: list[str], source_type: str, field: str) -> None:
    if not addresses:
        raise invalid(field, "is required: at least one host:port")
    if len(addresses) > MAX_ADDRESSES:
        raise invalid(field, f"takes at most {MAX_ADDRESSES} addresses")
    for i, address in enumerate(addresses):
        afield = join(field, f"[{i}]")
        try:
            host, _ = split_address(address)
        except ValueError as exc:
            raise invalid(afield, str(exc)) from None
        if source_type == "VIP" and not _is_ip(host):
            raise invalid(afield, f"a VIP service takes IP addresses, and {host!r} is not one "
                                  "(use sourceType DNS for host names)")
        if not _is_ip(host) and not all(_LABEL.match(label) for label in host.rstrip(".").split(".")):
            raise invalid(afield, f"{host!r} is not a valid host name")
    if len(set(addresses)) != len(addresses):
        raise invalid(field, "lists an address twice")


def check_ca_bundle(text: str, field: str) -> None:
    if len(text) > MAX_CA_BUNDLE:
        raise invalid(field, f"must be at most {MAX_CA_BUNDLE} characters")
    # An empty cadata loads nothing without complaint; a bundle must hold at least one certificate.
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise invalid(field, "must be PEM text holding at least one certificate (-----BEGIN CERTIFICATE-----)")
    try:
        ssl.create_default_context(cadata=text)
    except (ssl.SSLError, ValueError) as exc:
        raise invalid(field, f"is not a valid PEM certificate bundle: {exc}") from None


def check_config(config: ServiceConfig, source_type: str, field: str) -> None:
    check_name(config.name, join(field, "name"))
    check_addresses(config.addresses, source_type, join(field, "addresses"))
    if config.ca_bundle:
        check_ca_bundle(config.ca_bundle, join(field, "caBundle"))


def apply_update(record: ServiceRecord, body: UpdateService, now_ms: int) -> ServiceRecord:
    updated = msgspec.structs.replace(record, updated_ms=now_ms)
    if not isinstance(body.addresses, UnsetType):
        check_addresses(body.addresses, record.source_type, "addresses")
        updated.addresses = body.addresses
    if not isinstance(body.protocol, UnsetType):
        updated.protocol = body.protocol
    if body.ca_bundle is None or body.ca_bundle == "":
        updated.ca_bundle = ""
    elif not isinstance(body.ca_bundle, UnsetType):
        check_ca_bundle(body.ca_bundle, "caBundle")
        updated.ca_bundle = body.ca_bundle
    return updated


def to_resource(record: ServiceRecord, revision: int) -> dict[str, Any]:
    ports = sorted({split_address(a)[1] for a in record.addresses})
    view: dict[str, Any] = {
        "serviceId": record.id,
        "name": record.name,
        "gatewayId": record.gateway_id,
        "sourceType": record.source_type,
        "protocol": record.protocol,
        "addresses": record.addresses,
        "ports": [{"port": port, "protocol": record.protocol} for port in ports],
        "caBundle": record.ca_bundle,
        "resourceGroupId": record.resource_group_id,
        "createTimestamp": record.created_ms,
        "updateTimestamp": record.updated_ms,
        "revision": revision,
    }
    return view
