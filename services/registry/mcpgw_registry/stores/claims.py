"""Unique names across registry replicas: a KV key per name, created with `create`.

A request claims the unique key first and writes its record second. If the process dies between
the two writes, the claim is left pointing at a record that does not exist. Such a claim is
taken over by the next request for the same name, but only after a grace period: a younger
claim may belong to a request on another replica that is between its two writes right now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import msgspec

from mcpgw.contracts.errors import McpgwError
from mcpgw_registry.stores.kv import KeyExists, Store, StoreConflict

log = logging.getLogger(__name__)

STALE_AFTER_MS = 60_000


class Claim(msgspec.Struct, kw_only=True):
    owner: str
    at_ms: int


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Claim).decode


def now_ms() -> int:
    return int(time.time() * 1000)


def owner_of(value: bytes) -> str | None:
    try:
        return _decode(value).owner
    except msgspec.DecodeError:
        return None


async def claim(store: Store, key: str, owner: str, *, conflict: McpgwError,
                still_owned: Callable[[str], Awaitable[bool]]) -> None:
    """Make `owner` the holder of `key`, or raise `conflict` if someone live holds it.

    `still_owned(previous_owner)` tells whether the previous holder's record exists and still
    uses the key.
    """
    value = _encode(Claim(owner=owner, at_ms=now_ms()))
    try:
        await store.create(key, value)
        return
    except KeyExists:
        pass
    entry = await store.get(key)
    if entry is None:  # released between our two calls
        try:
            await store.create(key, value)
            return
        except KeyExists:
            raise conflict from None
    try:
        held = _decode(entry.value)
    except msgspec.DecodeError:
        held = Claim(owner="", at_ms=0)
    if held.owner == owner:
        return
    if now_ms() - held.at_ms < STALE_AFTER_MS or (held.owner and await still_owned(held.owner)):
        raise conflict
    try:
        await store.update(key, value, last=entry.revision)
    except StoreConflict:
        raise conflict from None
    log.info("took over stale claim %s from %s", key, held.owner)


async def release(store: Store, key: str, owner: str) -> None:
    """Drop `owner`'s claim; best effort, since a leftover claim is taken over later."""
    try:
        entry = await store.get(key)
        if entry is not None and owner_of(entry.value) == owner:
            await store.delete(key, last=entry.revision)
    except (McpgwError, StoreConflict) as exc:
        log.warning("could not release %s: %s", key, exc)
