"""Per-consumer upstream credentials: `upstream-credentials.<server id>.<consumer id>` in the KV.

Keyed server first so a server's credentials are one prefix scan; a consumer's are a wildcard
scan, which only a consumer's deletion needs. The server's revision is what caches go by, so
`hooks` rewrites the server after every change here (see `LinkedHooks.refresh`).
"""

from __future__ import annotations

import logging

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.contracts.hosting import UpstreamCredential
from mcpgw_registry.stores import keys
from mcpgw_registry.stores.kv import Store, StoreConflict

log = logging.getLogger(__name__)

class ConsumerCredential(msgspec.Struct, kw_only=True, omit_defaults=True):
    v: int = 1
    credential: UpstreamCredential
    updated_ms: int = 0


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(ConsumerCredential).decode


class ConsumerCredentials:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, server_id: str, consumer_id: str) -> UpstreamCredential | None:
        entry = await self._store.get(keys.upstream_credential(server_id, consumer_id))
        if entry is None:
            return None
        try:
            return _decode(entry.value).credential
        except msgspec.DecodeError as exc:
            log.error("unreadable upstream credential %s: %s", entry.key, exc)
            return None

    async def put(self, server_id: str, consumer_id: str, credential: UpstreamCredential, now_ms: int) -> None:
        key = keys.upstream_credential(server_id, consumer_id)
        value = _encode(ConsumerCredential(credential=credential, updated_ms=now_ms))
        # Last writer wins: a credential replaces the one before it whatever that was.
        entry = await self._store.get(key)
        try:
            if entry is None:
                await self._store.create(key, value)
            else:
                await self._store.update(key, value, last=entry.revision)
        except StoreConflict:
            raise McpgwError(ErrorCode.CONFLICT, "upstreamCredential: changed by another request at the same "
                                                 "time; read it and retry") from None

    async def delete(self, server_id: str, consumer_id: str) -> bool:
        key = keys.upstream_credential(server_id, consumer_id)
        if await self._store.get(key) is None:
            return False
        await self._store.delete(key)
        return True

    async def delete_for_server(self, server_id: str) -> None:
        for entry in await self._store.scan(keys.upstream_credentials(server_id)):
            await self._store.delete(entry.key)

    async def delete_for_consumer(self, consumer_id: str) -> list[str]:
        """Remove the consumer's credentials; the ids of the servers that had one."""
        servers = []
        for entry in await self._store.scan(keys.upstream_credentials("*")):
            server_id, owner = keys.upstream_credential_ids(entry.key)
            if owner == consumer_id:
                await self._store.delete(entry.key)
                servers.append(server_id)
        return servers
