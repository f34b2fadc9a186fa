"""Consumers and their API keys: request bodies, the stored record, key handling and API views.

API keys are stored only as sha256 hex digests plus a masked form for display. The plaintext
of a key exists in exactly one response: the one that created it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.registry import ApiKeySource, ConsumerCredentials
from mcpgw_registry.resources.consumers.jwt import JwtIdentityConfig, StoredJwt, to_verification
from mcpgw_registry.resources.consumers.jwt import view as jwt_view
from mcpgw_registry.resources.ids import CREDENTIAL_PREFIX, new_id
from mcpgw_registry.resources.validation import CONTROL, HEADER_NAME, QUERY_NAME, Body, join

MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_CREDENTIALS = 32
SYSTEM_KEY_PREFIX = "mcpgw_"
# Printable ASCII without space: keys travel in headers and query strings unchanged.
CUSTOM_KEY = re.compile(r"^[\x21-\x7e]{16,256}$")
CONFIG_FIELD = "apikeyIdentityConfig"

GenerateMode = Literal["System", "Custom"]


class ApikeySourceBody(Body):
    source: Literal["Default", "Header", "QueryString"] = "Default"
    value: str = ""


class CredentialBody(Body):
    apikey: str | None = None
    generate_mode: GenerateMode = "System"
    # Update only: names an existing key to keep.
    credential_id: str | None = None


class ApikeyIdentityConfig(Body):
    type: Literal["Apikey"] = "Apikey"
    apikey_source: ApikeySourceBody = msgspec.field(default_factory=ApikeySourceBody)
    credentials: list[CredentialBody] = []


class CreateConsumer(Body):
    name: str
    description: str = ""
    enable: bool = True
    gateway_type: Literal["API", "AI"] | None = None
    apikey_identity_config: ApikeyIdentityConfig | None = None
    jwt_identity_config: JwtIdentityConfig | None = None
    # Kept as given (secret keys masked on read); not interpreted yet.
    ak_sk_identity_configs: list[dict[str, Any]] | None = None


class UpdateConsumer(Body):
    name: str | UnsetType = UNSET
    gateway_type: Literal["API", "AI"] | UnsetType | None = UNSET
    description: str | UnsetType = UNSET
    enable: bool | UnsetType = UNSET
    apikey_identity_config: ApikeyIdentityConfig | UnsetType | None = UNSET
    jwt_identity_config: JwtIdentityConfig | UnsetType | None = UNSET
    ak_sk_identity_configs: list[dict[str, Any]] | UnsetType | None = UNSET


class StoredCredential(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    sha256: str
    masked: str
    generate_mode: str = "System"
    created_ms: int = 0


class ConsumerRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What `consumers.<id>` holds. Never a plaintext key."""

    v: int = 1
    id: str
    name: str
    description: str = ""
    enable: bool = True
    gateway_type: str | None = None
    apikey_configured: bool = False
    apikey_source: ApiKeySource = msgspec.field(default_factory=ApiKeySource)
    credentials: list[StoredCredential] = []
    jwt: StoredJwt | None = None
    aksk: list[dict[str, Any]] | None = None
    created_ms: int = 0
    updated_ms: int = 0


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key created by this request: its plaintext goes into this response and nowhere else."""

    credential: StoredCredential
    plaintext: str
    index: int


def key_hash(apikey: str) -> str:
    return hashlib.sha256(apikey.encode()).hexdigest()


def mask(apikey: str) -> str:
    return apikey[:6] + "…"


def generate_key() -> str:
    return SYSTEM_KEY_PREFIX + secrets.token_urlsafe(32)


def check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME:
        raise invalid("name", f"must be 1 to {MAX_NAME} characters")
    if CONTROL.search(name):
        raise invalid("name", "must not contain control characters")


def check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION:
        raise invalid("description", f"must be at most {MAX_DESCRIPTION} characters")


def source_of(config: ApikeyIdentityConfig) -> ApiKeySource:
    src = config.apikey_source
    field = join(CONFIG_FIELD, "apikeySource.value")
    if src.source == "Header":
        if not HEADER_NAME.match(src.value):
            raise invalid(field, "must be a valid HTTP header name when source is Header")
        return ApiKeySource(source="Header", value=src.value)
    if src.source == "QueryString":
        if not QUERY_NAME.match(src.value):
            raise invalid(field, "must be a query parameter name (A-Z a-z 0-9 _ . ~ -) when source is QueryString")
        return ApiKeySource(source="QueryString", value=src.value)
    # Default is `Authorization: Bearer <key>`; a value has no meaning there.
    return ApiKeySource(source="Default")


def plan_credentials(config: ApikeyIdentityConfig, existing: list[StoredCredential], now_ms: int,
                     *, updating: bool) -> tuple[list[StoredCredential], list[NewKey]]:
    """The consumer's credentials after this request, and the keys it creates.

    On update an entry with `credentialId` keeps that key; entries without one make new keys;
    existing keys not named are dropped.
    """
    if len(config.credentials) > MAX_CREDENTIALS:
        raise invalid(join(CONFIG_FIELD, "credentials"), f"at most {MAX_CREDENTIALS} keys per consumer")
    by_id = {c.id: c for c in existing}
    kept_ids: set[str] = set()
    seen_plain: dict[str, int] = {}
    result: list[StoredCredential] = []
    created: list[NewKey] = []
    for i, item in enumerate(config.credentials):
        field = join(CONFIG_FIELD, f"credentials[{i}]")
        if item.credential_id is not None:
            if not updating:
                raise invalid(join(field, "credentialId"), "can only be given when updating a consumer")
            if item.credential_id not in by_id:
                raise invalid(join(field, "credentialId"), f"this consumer has no credential {item.credential_id!r}")
            if item.credential_id in kept_ids:
                raise invalid(join(field, "credentialId"), "is listed twice")
            if item.apikey is not None:
                raise invalid(join(field, "apikey"), "an existing key cannot be changed; remove it and add a new one")
            kept_ids.add(item.credential_id)
            result.append(by_id[item.credential_id])
            continue
        if item.generate_mode == "System":
            if item.apikey is not None:
                raise invalid(join(field, "apikey"), "must not be given when generateMode is System")
            plaintext = generate_key()
        else:
            if item.apikey is None:
                raise invalid(join(field, "apikey"), "is required when generateMode is Custom")
            if not CUSTOM_KEY.match(item.apikey):
                raise invalid(join(field, "apikey"),
                              "must be 16 to 256 printable characters without spaces")
            plaintext = item.apikey
        if plaintext in seen_plain:
            raise invalid(join(field, "apikey"), f"is the same key as credentials[{seen_plain[plaintext]}]")
        seen_plain[plaintext] = i
        credential = StoredCredential(id=new_id(CREDENTIAL_PREFIX), sha256=key_hash(plaintext),
                                      masked=mask(plaintext), generate_mode=item.generate_mode,
                                      created_ms=now_ms)
        result.append(credential)
        created.append(NewKey(credential=credential, plaintext=plaintext, index=i))
    return result, created


def to_credentials(record: ConsumerRecord) -> ConsumerCredentials:
    return ConsumerCredentials(consumer_id=record.id, name=record.name, enable=record.enable,
                               apikey_hashes=[c.sha256 for c in record.credentials],
                               apikey_source=record.apikey_source,
                               jwt=to_verification(record.jwt) if record.jwt is not None else None)


def _source_view(source: ApiKeySource) -> dict[str, str]:
    view: dict[str, str] = {"source": source.source}
    if source.value:
        view["value"] = source.value
    return view


def apikey_view(record: ConsumerRecord, new_keys: list[NewKey]) -> dict[str, Any]:
    """`apikeyIdentityConfig` with masked keys, except the plaintext of keys created just now."""
    fresh = {k.credential.id: k.plaintext for k in new_keys}
    return {
        "type": "Apikey",
        "apikeySource": _source_view(record.apikey_source),
        "credentials": [
            {"credentialId": c.id, "apikey": fresh.get(c.id, c.masked), "generateMode": c.generate_mode,
             "createTimestamp": c.created_ms}
            for c in record.credentials
        ],
    }


def to_item(record: ConsumerRecord, revision: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "consumerId": record.id,
        "name": record.name,
        "description": record.description,
        "enable": record.enable,
        "deployStatus": "Deployed",
        "createTimestamp": record.created_ms,
        "updateTimestamp": record.updated_ms,
        "revision": revision,
    }
    if record.gateway_type is not None:
        item["gatewayType"] = record.gateway_type
    return item


def to_resource(record: ConsumerRecord, revision: int) -> dict[str, Any]:
    view = to_item(record, revision)
    if record.apikey_configured:
        # GetConsumer spells it with a capital K (the request uses `apikeyIdentityConfig`).
        view["apiKeyIdentityConfig"] = apikey_view(record, [])
    if record.jwt is not None:
        view["jwtIdentityConfig"] = jwt_view(record.jwt)
    if record.aksk is not None:
        # Secret keys are write-only, like API keys; the access key id stays readable.
        view["akSkIdentityConfigs"] = [
            {k: (mask(str(v)) if k == "sk" else v) for k, v in item.items()} for item in record.aksk
        ]
    view["consumerGroups"] = []
    return view
