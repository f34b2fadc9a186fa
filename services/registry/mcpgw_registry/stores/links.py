"""Who uses what: one KV key per use, `links.<kind>.<target>.<holder>`, so finding the servers that
use a service (kind `service`) or the assemblies that draw from a server (kind `source`) reads
those few keys instead of every server record.

A link is written before the record that needs it and removed after the record that no longer
does, so a crash in between leaves a link too many, never one too few. Readers therefore check
the holder still uses the target (`Links.holders` returns candidates).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Literal

from mcpgw.contracts.errors import McpgwError
from mcpgw_registry.stores import keys
from mcpgw_registry.stores.kv import KeyExists, Store, StoreConflict

log = logging.getLogger(__name__)

LinkKind = Literal["service", "source"]
Link = tuple[LinkKind, str]  # (kind, target id); the holder is the record being written


class Links:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(self, holder: str, links: Iterable[Link]) -> None:
        for kind, target in links:
            try:
                await self._store.create(keys.link(kind, target, holder), b"1")
            except KeyExists:
                pass

    async def remove(self, holder: str, links: Iterable[Link]) -> None:
        """Best effort: a leftover link only costs a reader one check."""
        for kind, target in links:
            try:
                await self._store.delete(keys.link(kind, target, holder))
            except (McpgwError, StoreConflict) as exc:
                log.warning("could not remove link %s %s -> %s: %s", kind, holder, target, exc)

    async def holders(self, kind: LinkKind, target: str) -> list[str]:
        """Ids of the records that may use `target` (verify each: see the module's docstring)."""
        prefix = keys.links(kind, target)
        return [entry.key[len(prefix) + 1:] for entry in await self._store.scan(prefix)]
