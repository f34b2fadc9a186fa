"""Large values beside the KV records: a JetStream object store, every call bounded by a timeout.

A KV record must fit one NATS message (1 MiB by default); the object store chunks values of any
size. It holds the last generated tools document of each imported server and the parts of server
records too large for KV (see `server_storage`). The bucket is opened on first use, so a registry
that never needs it never creates it. Values are stored zlib-compressed (tools YAML and JSON
shrink five- to tenfold).
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.js.api import ObjectStoreConfig
from nats.js.object_store import ObjectStore

from mcpgw.contracts.errors import ErrorCode, McpgwError

log = logging.getLogger(__name__)
T = TypeVar("T")


# zlib releases the GIL: megabytes are (de)compressed in a thread, beside the event loop.
_THREAD_FROM = 256 * 1024


async def _off_loop(call: Callable[..., bytes], data: bytes, *args: int) -> bytes:
    if len(data) < _THREAD_FROM:
        return call(data, *args)
    return await asyncio.to_thread(call, data, *args)


def _unavailable(what: str) -> McpgwError:
    return McpgwError(ErrorCode.NO_RESPONDERS, f"the import store is unavailable ({what})")


class BlobStore:
    def __init__(self, nc: NatsClient, bucket: str, *, replicas: int, timeout: float) -> None:
        self._nc = nc
        self._bucket = bucket
        self._replicas = replicas
        self._timeout = timeout
        self._store: ObjectStore | None = None
        self._lock = asyncio.Lock()

    async def _call(self, what: str, call: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(call, self._timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            raise McpgwError(ErrorCode.TIMEOUT,
                             f"the import store did not answer within {self._timeout:g}s ({what})") from None
        except (nats.js.errors.ObjectNotFoundError, nats.js.errors.ObjectDeletedError,
                nats.js.errors.BucketNotFoundError):
            raise
        except (nats.js.errors.Error, nats.errors.Error) as exc:
            log.warning("object store %s failed: %s", what, exc)
            raise _unavailable(what) from None

    async def _open(self) -> ObjectStore:
        async with self._lock:
            if self._store is not None:
                return self._store
            js = self._nc.jetstream(timeout=self._timeout)
            try:
                store = await self._call("open", js.object_store(self._bucket))
            except nats.js.errors.BucketNotFoundError:
                # Creating an identical bucket is idempotent, so a replica racing us here is harmless.
                config = ObjectStoreConfig(bucket=self._bucket, replicas=self._replicas,
                                           description="mcpgw generated tools of imported servers")
                store = await self._call("create", js.create_object_store(self._bucket, config=config))
            self._store = store
            return store

    async def put(self, name: str, value: bytes) -> None:
        store = await self._open()
        packed = await _off_loop(zlib.compress, value, 6)
        # Timeout per call, and generous: a value is uploaded in chunks, one acknowledged publish each.
        await self._call(f"put {name}", store.put(name, packed))

    async def get(self, name: str) -> bytes | None:
        store = await self._open()
        try:
            result = await self._call(f"get {name}", store.get(name))
        except (nats.js.errors.ObjectNotFoundError, nats.js.errors.ObjectDeletedError):
            return None
        if result.data is None:
            return None
        try:
            return await _off_loop(zlib.decompress, result.data)
        except zlib.error:
            log.error("object %s in %s is not readable", name, self._bucket)
            return None

    async def exists(self, name: str) -> bool:
        store = await self._open()
        try:
            await self._call(f"info {name}", store.get_info(name))
        except (nats.js.errors.ObjectNotFoundError, nats.js.errors.ObjectDeletedError):
            return False
        return True

    async def delete(self, name: str) -> None:
        """Best effort: a leftover object wastes space but breaks nothing."""
        try:
            store = await self._open()
            await self._call(f"delete {name}", store.delete(name))
        except (McpgwError, nats.js.errors.ObjectNotFoundError, nats.js.errors.ObjectDeletedError) as exc:
            log.info("could not delete object %s: %s", name, exc)
