"""The secret values a server's revisions refer to: one KV value per server, `secrets.<server id>`.

A revision holds no secret (see `resources.servers.secret_refs`): it names each by a reference,
an HMAC-SHA256 of the value under a random key of the server's own (a plain hash of a short
API key would be as good as the key to anyone who can try keys). Equal values share one entry,
so twenty revisions of an unchanged credential store it once.

Writers add what they refer to before writing the revision that refers to it; values that no
kept revision refers to are deleted after a revision is kept (best effort). A value is only
deleted a minute after it was added, so a replica between adding and listing its revision never
loses it to another replica's sweep. Deleting the server deletes the whole value.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw_registry.stores import keys
from mcpgw_registry.stores.kv import Store, StoreConflict

log = logging.getLogger(__name__)

# A secret younger than this is never swept (see the module's docstring).
GRACE_MS = 60_000
_ATTEMPTS = 5


class _Secret(msgspec.Struct, kw_only=True):
    value: Any
    added_ms: int


class _Secrets(msgspec.Struct, kw_only=True):
    key: str
    values: dict[str, _Secret] = {}


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(_Secrets).decode


def _ref(key: str, value: Any) -> str:
    return hmac.new(bytes.fromhex(key), _encode(value), hashlib.sha256).hexdigest()[:40]


class SecretStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def _read(self, server_id: str) -> tuple[_Secrets | None, int | None]:
        entry = await self._store.get(keys.secrets(server_id))
        if entry is None:
            return None, None
        return _decode(entry.value), entry.revision

    async def refer(self, server_id: str, values: dict[str, Any], now_ms: int) -> dict[str, str]:
        """Store `values` (place -> secret); the reference of each, by place."""
        if not values:
            return {}
        for _ in range(_ATTEMPTS):
            held, at = await self._read(server_id)
            if held is None:
                held = _Secrets(key=secrets.token_hex(32))
            refs = {place: _ref(held.key, value) for place, value in values.items()}
            added = {ref: _Secret(value=values[place], added_ms=now_ms)
                     for place, ref in refs.items() if ref not in held.values}
            if at is not None and not added:
                return refs
            value = _encode(_Secrets(key=held.key, values={**held.values, **added}))
            try:
                if at is None:
                    await self._store.create(keys.secrets(server_id), value)
                else:
                    await self._store.update(keys.secrets(server_id), value, last=at)
            except StoreConflict:
                continue  # another replica wrote first: read again
            return refs
        raise McpgwError(ErrorCode.CONFLICT, "revision: the server was published concurrently; retry")

    async def resolve(self, server_id: str, refs: dict[str, str], field: str) -> dict[str, Any]:
        """The values `refs` name (place -> secret)."""
        if not refs:
            return {}
        held, _ = await self._read(server_id)
        found = held.values if held is not None else {}
        missing = sorted(place for place, ref in refs.items() if ref not in found)
        if missing:
            raise McpgwError(ErrorCode.INTERNAL, f"{field}: the secrets at {', '.join(missing)} this revision "
                                                 "refers to are not stored any more")
        return {place: found[ref].value for place, ref in refs.items()}

    async def sweep(self, server_id: str, used: set[str], now_ms: int) -> None:
        """Delete the values no reference in `used` names (best effort: a lost race keeps them)."""
        try:
            held, at = await self._read(server_id)
            if held is None or at is None:
                return
            kept = {ref: s for ref, s in held.values.items() if ref in used or now_ms - s.added_ms < GRACE_MS}
            if len(kept) == len(held.values):
                return
            await self._store.update(keys.secrets(server_id), _encode(_Secrets(key=held.key, values=kept)), last=at)
        except (StoreConflict, McpgwError) as exc:
            log.info("kept unused secrets of MCP server %s for a later sweep: %s", server_id, exc)

    async def drop(self, server_id: str) -> None:
        try:
            await self._store.delete(keys.secrets(server_id))
        except McpgwError as exc:
            log.warning("could not delete the secrets of MCP server %s: %s", server_id, exc)
