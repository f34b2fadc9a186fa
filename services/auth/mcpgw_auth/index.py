"""The in-memory consumer index, built from the registry's `AuthIndex` at one revision.

API keys: sha256 digest -> consumer, per place the key arrives. Only digests are ever held or
compared; the keys themselves never reach this service except inside a verify request, where they
are hashed at once. JWT consumers (keys parsed once here) and grants sit beside them.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

from mcpgw.contracts import AuthIndex, ConsumerCredentials, PresentedCredential
from mcpgw_auth.grants import GrantTable
from mcpgw_auth.jwks_remote import JwksCache
from mcpgw_auth.jwt_verify import JwtIndex

log = logging.getLogger(__name__)

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def digest(value: str) -> str:
    """The sha256 hex digest of a presented key, the form the registry stores."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class ConsumerIndex:
    # `Authorization: Bearer <key>` (apikeySource Default)
    bearer: dict[str, ConsumerCredentials] = field(default_factory=dict)
    # lower-cased header name -> digest -> consumer (apikeySource Header)
    header: dict[str, dict[str, ConsumerCredentials]] = field(default_factory=dict)
    # exact query parameter name -> digest -> consumer (apikeySource QueryString)
    query: dict[str, dict[str, ConsumerCredentials]] = field(default_factory=dict)
    jwt: JwtIndex = field(default_factory=lambda: JwtIndex({}))
    grants: GrantTable = field(default_factory=GrantTable)
    revision: int = 0

    @classmethod
    def build(cls, index: AuthIndex, jwks: JwksCache | None = None) -> ConsumerIndex:
        """The index for `index`; without `jwks`, remote JWKS URLs are ignored."""
        bearer: dict[str, ConsumerCredentials] = {}
        header: dict[str, dict[str, ConsumerCredentials]] = {}
        query: dict[str, dict[str, ConsumerCredentials]] = {}
        for consumer in index.consumers:
            source = consumer.apikey_source
            if source.source == "Default":
                table = bearer
            elif not source.value.strip():
                log.warning("consumer %s: apikeySource %s has no name; its keys are ignored",
                            consumer.consumer_id, source.source)
                continue
            elif source.source == "Header":
                table = header.setdefault(source.value.strip().lower(), {})
            else:
                table = query.setdefault(source.value.strip(), {})
            for raw in consumer.apikey_hashes:
                hashed = raw.strip().lower()
                if not _DIGEST.match(hashed):
                    log.warning("consumer %s: ignoring a key hash that is not sha256 hex", consumer.consumer_id)
                    continue
                other = table.get(hashed)
                if other is not None and other.consumer_id != consumer.consumer_id:
                    log.warning("consumers %s and %s share an API key; %s keeps it",
                                other.consumer_id, consumer.consumer_id, other.consumer_id)
                    continue
                table[hashed] = consumer
        return cls(bearer=bearer, header=header, query=query, jwt=JwtIndex.build(index.consumers, jwks),
                   grants=GrantTable.build(index.grants), revision=index.revision)

    def lookup(self, credential: PresentedCredential) -> ConsumerCredentials | None:
        """The consumer whose key this is, if any. An empty value never matches."""
        if not credential.value:
            return None
        if credential.source == "bearer":
            table: dict[str, ConsumerCredentials] | None = self.bearer
        elif credential.source == "header":
            table = self.header.get(credential.name.strip().lower())
        elif credential.source == "query":
            table = self.query.get(credential.name)
        else:
            return None  # API keys never arrive in cookies
        if not table:
            return None
        return table.get(digest(credential.value))

    @property
    def header_names(self) -> list[str]:
        """Where API keys and JWTs may arrive besides `Authorization: Bearer` (for the edge)."""
        return sorted(set(self.header) | self.jwt.names("header"))

    @property
    def query_names(self) -> list[str]:
        return sorted(set(self.query) | self.jwt.names("query"))

    @property
    def cookie_names(self) -> list[str]:
        return sorted(self.jwt.names("cookie"))
