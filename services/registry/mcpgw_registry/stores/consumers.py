"""Consumer operations against the store: every check first, then the writes, undone on failure.

Each API key also owns a KV key `apikeys.<sha256>` (claimed with `create`), which is what makes a
key unique across consumers even with several registry replicas writing at once.
"""

from __future__ import annotations

import logging

import msgspec
from msgspec import UNSET

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw_registry.bus.events import Events
from mcpgw_registry.resources.consumers.jwt import check as check_jwt
from mcpgw_registry.resources.consumers.model import (
    CONFIG_FIELD,
    ConsumerRecord,
    CreateConsumer,
    NewKey,
    UpdateConsumer,
    check_description,
    check_name,
    plan_credentials,
    source_of,
)
from mcpgw_registry.resources.ids import CONSUMER_PREFIX, is_consumer_id, new_id
from mcpgw_registry.resources.validation import join
from mcpgw_registry.stores import claims, keys
from mcpgw_registry.stores.grant_records import GrantRecords
from mcpgw_registry.stores.kv import Store, StoreConflict

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(ConsumerRecord).decode


def _not_found(consumer_id: str) -> McpgwError:
    return McpgwError(ErrorCode.NOT_FOUND, f"consumerId: no consumer {consumer_id!r}")


class ConsumerHooks:
    """What a consumer's deletion involves beyond its record and its rules; this base does nothing,
    `hooks.LinkedHooks` (its upstream credentials) is the real one."""

    async def consumer_deleted(self, consumer_id: str) -> None:
        """After the consumer was deleted."""


class ConsumerRepository:
    def __init__(self, store: Store, events: Events, grants: GrantRecords) -> None:
        self._store = store
        self._events = events
        self._grants = grants
        # Set by the app once the resources consumers link to are up (see stores.hooks).
        self.hooks = ConsumerHooks()

    # reads

    async def find(self, consumer_id: str) -> tuple[ConsumerRecord, int] | None:
        if not is_consumer_id(consumer_id):
            return None
        entry = await self._store.get(keys.consumer(consumer_id))
        if entry is None:
            return None
        return _decode(entry.value), entry.revision

    async def get(self, consumer_id: str) -> tuple[ConsumerRecord, int]:
        found = await self.find(consumer_id)
        if found is None:
            raise _not_found(consumer_id)
        return found

    async def all(self) -> list[tuple[ConsumerRecord, int]]:
        out = []
        for entry in await self._store.scan(keys.CONSUMERS):
            try:
                out.append((_decode(entry.value), entry.revision))
            except msgspec.DecodeError as exc:
                log.error("skipping unreadable record %s: %s", entry.key, exc)
        return out

    # key claims

    async def _claim_keys(self, consumer_id: str, new_keys: list[NewKey]) -> None:
        claimed: list[NewKey] = []

        async def still_owned(owner: str) -> bool:
            found = await self.find(owner)
            return found is not None and any(c.sha256 == key.credential.sha256 for c in found[0].credentials)

        try:
            for key in new_keys:
                conflict = McpgwError(ErrorCode.CONFLICT,
                                      f"{join(CONFIG_FIELD, f'credentials[{key.index}].apikey')}: "
                                      "this API key is already in use")
                await claims.claim(self._store, keys.apikey(key.credential.sha256), consumer_id,
                                   conflict=conflict, still_owned=still_owned)
                claimed.append(key)
        except BaseException:
            await self._release_keys(consumer_id, [k.credential.sha256 for k in claimed])
            raise

    async def _release_keys(self, consumer_id: str, hashes: list[str]) -> None:
        for sha256 in hashes:
            await claims.release(self._store, keys.apikey(sha256), consumer_id)

    # writes

    async def create(self, body: CreateConsumer, now_ms: int) -> tuple[ConsumerRecord, int, list[NewKey]]:
        check_name(body.name)
        check_description(body.description)
        jwt = check_jwt(body.jwt_identity_config, None) if body.jwt_identity_config is not None else None
        record = ConsumerRecord(id=new_id(CONSUMER_PREFIX), name=body.name, description=body.description,
                                enable=body.enable, gateway_type=body.gateway_type, jwt=jwt,
                                aksk=body.ak_sk_identity_configs, created_ms=now_ms, updated_ms=now_ms)
        new_keys: list[NewKey] = []
        if body.apikey_identity_config is not None:
            record.apikey_configured = True
            record.apikey_source = source_of(body.apikey_identity_config)
            record.credentials, new_keys = plan_credentials(body.apikey_identity_config, [], now_ms,
                                                            updating=False)
        value = _encode(record)
        self._store.check_size(value)
        await self._claim_keys(record.id, new_keys)
        try:
            revision = await self._store.create(keys.consumer(record.id), value)
        except BaseException:
            await self._release_keys(record.id, [k.credential.sha256 for k in new_keys])
            raise
        await self._events.consumer(record.id, "put", record.name, revision)
        return record, revision, new_keys

    async def update(self, consumer_id: str, body: UpdateConsumer,
                     now_ms: int) -> tuple[ConsumerRecord, int, list[NewKey]]:
        record, revision = await self.get(consumer_id)
        if body.name is not UNSET and body.name != record.name:
            raise invalid("name", "cannot be changed")
        if body.gateway_type is not UNSET and body.gateway_type != record.gateway_type:
            raise invalid("gatewayType", "cannot be changed")
        updated = msgspec.structs.replace(record, updated_ms=now_ms)
        if body.description is not UNSET:
            check_description(body.description)
            updated.description = body.description
        if body.enable is not UNSET:
            updated.enable = body.enable
        if body.jwt_identity_config is None:
            updated.jwt = None
        elif body.jwt_identity_config is not UNSET:
            updated.jwt = check_jwt(body.jwt_identity_config, record.jwt)
        if body.ak_sk_identity_configs is not UNSET:
            updated.aksk = body.ak_sk_identity_configs
        new_keys: list[NewKey] = []
        config = body.apikey_identity_config
        if config is None:
            updated.apikey_configured, updated.credentials = False, []
        elif config is not UNSET:
            updated.apikey_configured = True
            updated.apikey_source = source_of(config)
            updated.credentials, new_keys = plan_credentials(config, record.credentials, now_ms, updating=True)
        value = _encode(updated)
        self._store.check_size(value)
        await self._claim_keys(consumer_id, new_keys)
        try:
            new_revision = await self._store.update(keys.consumer(consumer_id), value, last=revision)
        except BaseException as exc:
            await self._release_keys(consumer_id, [k.credential.sha256 for k in new_keys])
            if isinstance(exc, StoreConflict):
                raise McpgwError(ErrorCode.CONFLICT, "revision: the consumer was changed by another request; "
                                                     "read it and retry") from None
            raise
        kept = {c.sha256 for c in updated.credentials}
        await self._release_keys(consumer_id, [c.sha256 for c in record.credentials if c.sha256 not in kept])
        await self._events.consumer(consumer_id, "put", updated.name, new_revision)
        return updated, new_revision, new_keys

    async def delete(self, consumer_id: str) -> None:
        """Delete the consumer and what is its alone: key claims, rules, upstream credentials."""
        record, revision = await self.get(consumer_id)
        try:
            # The commit point: from here on no reader honours the consumer's rules (see grant_records).
            await self._store.delete(keys.consumer(consumer_id), last=revision)
        except StoreConflict:
            raise McpgwError(ErrorCode.CONFLICT, "revision: the consumer was changed by another request; "
                                                 "read it and retry") from None
        await self._release_keys(consumer_id, [c.sha256 for c in record.credentials])
        # The delete's own sequence is not returned; the stream's last one is at least as new, and
        # is what the edge passes on to auth as the revision a verdict must reflect.
        try:
            revision = await self._store.last_revision()
        except McpgwError as exc:
            log.warning("no revision for the deletion event of %s: %s", consumer_id, exc.message)
        await self._events.consumer(consumer_id, "delete", record.name, revision)
        await self._grants.drop_orphans()
        # Its own upstream credentials (the servers that had one are rewritten: see stores.hooks).
        await self.hooks.consumer_deleted(consumer_id)
