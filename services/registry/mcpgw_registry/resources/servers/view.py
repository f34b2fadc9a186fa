"""The MCP server resource as the API shows it (GET, list items)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from mcpgw_registry.resources.hosted.credentials import view as credential_view
from mcpgw_registry.resources.servers.model import ServerRecord


@dataclass(frozen=True)
class Publication:
    """How the published record stands beside the one a view shows (the draft, if any)."""

    # The published record's status, or DeployFailed after a deploy that could not publish.
    status: str
    # The number of the last publish (a revision, see stores.revisions); None: never published.
    published: int | None
    # Whether the view shows a draft that differs from what was last published.
    draft: bool
    # Why the last deploy failed: {field, message}.
    error: dict[str, str] | None = None


def to_resource(record: ServerRecord, revision: int, tools_text: str, *, listing: bool = False,
                publication: Publication | None = None) -> dict[str, Any]:
    """The API view (`GetMcpServer` data); list items leave out the canary routes.

    `tools_text` is the document as readers may see it (credentials masked); `publication`, for a
    server (not a revision), says what is published.
    """
    config = base64.b64encode(tools_text.encode()).decode() if tools_text else ""
    view: dict[str, Any] = {
        "mcpServerId": record.id,
        "name": record.name,
        "description": record.description,
        "type": record.type,
        "createFromType": record.create_from_type,
        "protocol": record.protocol,
        "mcpServerPath": f"/mcp-servers/{record.name}",
        "exposedUriPath": record.exposed_uri_path,
        "deployStatus": record.deploy_status,
        "mcpServerConfig": config,
        "mcpStatisticsEnable": record.statistics,
        "listTtlMs": record.list_ttl_ms,
        "gatewayId": record.gateway_id,
        "domainIds": record.domain_ids,
        "domainInfos": [],
        "match": record.match,
        "backend": record.backend_config,
        "assembledSources": record.assembled_sources,
        "consumerAuthInfo": {"enable": record.consumer_auth},
        "upstreamCredential": credential_view(record.upstream_credential) if record.upstream_credential else None,
        "createTimestamp": record.created_ms,
        "updateTimestamp": record.updated_ms,
        "revision": revision,
    }
    if not listing:
        view["grayMcpServerConfigs"] = record.gray_configs
    view = {k: v for k, v in view.items() if v is not None}
    if publication is not None:
        view["deployStatus"] = publication.status
        view["publishedRevision"] = publication.published
        view["hasUnpublishedChanges"] = publication.draft or publication.published is None
        if publication.error is not None:
            view["deployError"] = publication.error
    return view
