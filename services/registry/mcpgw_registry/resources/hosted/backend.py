"""A server's `backendConfig` (and each gray config's): the services it names must exist, and become
the server's targets (the addresses toolexec or hosting pick from, `mcpgw.balancing`).

Each service entry picks a service (`serviceId`) and a weight; `port`, when given, narrows the
service's addresses to those on that port. The scheme and CA bundle come from the service itself:
an entry's `protocol` may only repeat it (a mismatch is refused rather than silently overridden,
since HTTP where HTTPS was meant would send credentials in the clear).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.hosting import UpstreamTarget
from mcpgw.contracts.tools import ToolsDocument
from mcpgw.templating import is_relative
from mcpgw_registry.resources.servers.model import BackendConfig, ServerRecord
from mcpgw_registry.resources.services import ServiceRecord, split_address
from mcpgw_registry.resources.validation import join
from mcpgw_registry.stores.services import ServiceRepository

FIELD = "backendConfig"
DEFAULT_WEIGHT = 100
SCENES = ("SingleService", "MultiServiceByRatio")


def check_scene(backend: BackendConfig, field: str = FIELD) -> None:
    """The scenes supported: one service, or several by weight."""
    if backend.scene not in SCENES:
        raise invalid(join(field, "scene"), f"scene {backend.scene} is not supported yet; use "
                                            f"{' or '.join(SCENES)}")
    if backend.scene == "SingleService" and len(backend.services) != 1:
        raise invalid(join(field, "services"), "scene SingleService takes exactly one service "
                                               "(MultiServiceByRatio takes several)")
    if not any((s.weight if s.weight is not None else DEFAULT_WEIGHT) > 0 for s in backend.services):
        raise invalid(join(field, "services"), "at least one service needs a weight above 0")


async def resolve(backend: BackendConfig, services: ServiceRepository, *, strict: bool = True,
                  field: str = FIELD) -> list[UpstreamTarget]:
    """Check the services `backend` names and return their targets (one per address).

    Fills each entry's `name` and `protocol` from its service, which is what the API shows. With
    `strict` off (a service changed under a stored server) an entry's protocol follows the service
    instead of being checked against it.
    """
    targets: list[UpstreamTarget] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(backend.services):
        efield = join(field, f"services[{i}]")
        if entry.service_id in seen:
            raise invalid(join(efield, "serviceId"), f"repeats services[{seen[entry.service_id]}]")
        seen[entry.service_id] = i
        found = await services.find(entry.service_id)
        if found is None:
            raise invalid(join(efield, "serviceId"), f"service {entry.service_id} not found")
        service, _ = found
        if strict and entry.protocol is not None and entry.protocol != service.protocol:
            raise invalid(join(efield, "protocol"), f"is {entry.protocol}, but service {service.name} speaks "
                                                    f"{service.protocol} (change it on the service)")
        entry.name, entry.protocol = service.name, service.protocol
        targets.extend(_targets(service, entry.port, entry.weight, efield, strict=strict))
    if backend.scene == "SingleService":
        # One service (check_scene refuses more when it is written); its weight is no share of anything.
        targets = [msgspec.structs.replace(t, weight=DEFAULT_WEIGHT) for t in targets]
    return targets


def _targets(service: ServiceRecord, port: int | None, weight: int | None, field: str, *,
             strict: bool) -> list[UpstreamTarget]:
    scheme: Literal["http", "https"] = "https" if service.protocol == "HTTPS" else "http"
    addresses = [a for a in service.addresses if not port or split_address(a)[1] == port]
    if not addresses and strict:
        raise invalid(join(field, "port"), f"service {service.name} has no address on port {port}")
    return [UpstreamTarget(address=a, weight=DEFAULT_WEIGHT if weight is None else weight, scheme=scheme,
                           service=service.id, ca_bundle=service.ca_bundle if scheme == "https" else "")
            for a in addresses]


def check_relative_urls(record: ServerRecord, doc: ToolsDocument | None) -> None:
    """A tool URL relative to the backend (`/items/{{.args.id}}`) needs the server's backendConfig."""
    if doc is None or record.backend_config is not None:
        return
    for tool in doc.tools:
        if tool.request_template.url and is_relative(tool.request_template.url):
            raise invalid(f"tools[{tool.name}].requestTemplate.url",
                          f"is relative ({tool.request_template.url!r}) but the server has no backendConfig: set "
                          "backendConfig (the services it is resolved against) or write an absolute URL")
