"""Every key of the KV bucket, in one place (ids and names are restricted to KV-safe characters).

  servers.<id>              a server record (JSON)
  server-names.<name>       the id owning a server name; created with `create` so names stay
                            unique even when several registry replicas write at once
  consumers.<id>            a consumer record (JSON)
  apikeys.<sha256 hex>      the consumer id owning an API key, unique the same way
  grants.<id>               an authorization rule (JSON); it counts only while the consumer and
                            the server it names exist (see `grant_records`)
  services.<id>             a service (JSON)
  service-names.<name>      the id owning a service name (like server-names)
  links.<kind>.<target>.<holder>
                            `holder` uses `target`: a server a service (kind `service`), an
                            assembly a source server (kind `source`); see `links`
  domains.<id>              a domain (JSON)
  domain-names.<name>       the id owning a domain name (like server-names)
  domain-users.<domain id>  the id of the one server using the domain (a claim, like the names:
                            two servers cannot share a domain); see `domain_users`
  upstream-credentials.<server id>.<consumer id>
                            a consumer's own credential for a hosted server (JSON)
  revisions.<server id>     the published revisions kept of a server (see `revisions`)
  drafts.<server id>        a server's unpublished edits, stored like `servers.<id>` (see `drafts`)
  deploy-failures.<server id>
                            why the server's last deploy failed, until one succeeds (see `drafts`)
  secrets.<server id>       the secret values the server's revisions refer to (see `secret_store`)
"""

from __future__ import annotations

SERVERS = "servers"
CONSUMERS = "consumers"
GRANTS = "grants"
SERVICES = "services"
DOMAINS = "domains"
UPSTREAM_CREDENTIALS = "upstream-credentials"
DRAFTS = "drafts"
REVISIONS = "revisions"
DEPLOY_FAILURES = "deploy-failures"


def server(server_id: str) -> str:
    return f"{SERVERS}.{server_id}"


def server_name(name: str) -> str:
    return f"server-names.{name}"


def consumer(consumer_id: str) -> str:
    return f"{CONSUMERS}.{consumer_id}"


def apikey(sha256: str) -> str:
    return f"apikeys.{sha256}"


def grant(rule_id: str) -> str:
    return f"{GRANTS}.{rule_id}"


def revisions(server_id: str) -> str:
    return f"{REVISIONS}.{server_id}"


def draft(server_id: str) -> str:
    return f"{DRAFTS}.{server_id}"


def deploy_failure(server_id: str) -> str:
    return f"{DEPLOY_FAILURES}.{server_id}"


def secrets(server_id: str) -> str:
    return f"secrets.{server_id}"


def service(service_id: str) -> str:
    return f"{SERVICES}.{service_id}"


def service_name(name: str) -> str:
    return f"service-names.{name}"


def domain(domain_id: str) -> str:
    return f"{DOMAINS}.{domain_id}"


def domain_name(name: str) -> str:
    return f"domain-names.{name}"


def domain_user(domain_id: str) -> str:
    return f"domain-users.{domain_id}"


def links(kind: str, target: str) -> str:
    """The prefix of the links to `target`: a scan of it lists the holders."""
    return f"links.{kind}.{target}"


def link(kind: str, target: str, holder: str) -> str:
    return f"{links(kind, target)}.{holder}"


def upstream_credentials(server_id: str) -> str:
    """The prefix of one server's per-consumer credentials (`*`: every server's)."""
    return f"{UPSTREAM_CREDENTIALS}.{server_id}"


def upstream_credential(server_id: str, consumer_id: str) -> str:
    return f"{upstream_credentials(server_id)}.{consumer_id}"


def upstream_credential_ids(key: str) -> tuple[str, str]:
    """(server id, consumer id) of an `upstream_credential` key."""
    _, server_id, consumer_id = key.split(".")
    return server_id, consumer_id
