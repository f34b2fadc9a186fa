"""The configuration store: one NATS JetStream KV bucket, every call bounded by a timeout.

The keys it holds are listed (and built) in `keys`.

Optimistic concurrency: writers pass the revision they read (`update(..., last=rev)`); a
concurrent writer makes that fail with `RevisionMismatch`, which the API answers with 409.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.js.kv import KeyValue

from mcpgw.contracts.errors import ErrorCode, McpgwError

log = logging.getLogger(__name__)
T = TypeVar("T")

# JetStream error codes for "expected last sequence does not match".
_WRONG_LAST_SEQUENCE = (10071, 10164)
# Room for the JetStream headers next to the value in one NATS message.
_HEADER_ROOM = 1024


class StoreConflict(Exception):
    """A conditional write lost: the key exists already, or changed since it was read."""


class KeyExists(StoreConflict):
    pass


class RevisionMismatch(StoreConflict):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    value: bytes
    revision: int


class Store:
    def __init__(self, nc: NatsClient, kv: KeyValue, timeout: float) -> None:
        self._nc = nc
        self._kv = kv
        self._js = nc.jetstream(timeout=timeout)
        self._timeout = timeout

    @classmethod
    async def open(cls, nc: NatsClient, bucket: str, *, replicas: int, timeout: float) -> Store:
        """Bind to the bucket, creating it on first use (any replica may be first)."""
        js = nc.jetstream(timeout=timeout)

        async def bind() -> KeyValue:
            try:
                return await js.key_value(bucket)
            except nats.js.errors.BucketNotFoundError:
                pass
            try:
                return await js.create_key_value(bucket=bucket, history=5, replicas=replicas,
                                                 description="mcpgw configuration")
            except nats.js.errors.APIError:
                # Another replica created it between our two calls.
                return await js.key_value(bucket)

        try:
            kv = await asyncio.wait_for(bind(), timeout * 2)
        except (TimeoutError, nats.errors.TimeoutError):
            raise McpgwError(ErrorCode.TIMEOUT, f"JetStream did not answer within {timeout:g}s "
                                                f"opening KV bucket {bucket!r}") from None
        except (nats.js.errors.ServiceUnavailableError, nats.errors.NoRespondersError):
            raise McpgwError(ErrorCode.NO_RESPONDERS, "JetStream is not enabled on the NATS server") from None
        return cls(nc, kv, timeout)

    @property
    def max_value_bytes(self) -> int:
        return max(int(self._nc.max_payload) - _HEADER_ROOM, 0)

    async def _call(self, what: str, call: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(call, self._timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            raise McpgwError(ErrorCode.TIMEOUT,
                             f"the configuration store did not answer within {self._timeout:g}s") from None
        except (StoreConflict, nats.js.errors.KeyNotFoundError):
            raise
        except nats.js.errors.KeyWrongLastSequenceError:
            raise RevisionMismatch(what) from None
        except nats.js.errors.APIError as exc:
            if exc.err_code in _WRONG_LAST_SEQUENCE:
                raise RevisionMismatch(what) from None
            log.warning("KV %s failed: %s", what, exc)
            raise McpgwError(ErrorCode.NO_RESPONDERS, "the configuration store refused the request") from None
        except (nats.errors.ConnectionClosedError, nats.errors.NoRespondersError, nats.errors.Error) as exc:
            log.warning("KV %s failed: %s", what, exc)
            raise McpgwError(ErrorCode.NO_RESPONDERS, "the configuration store is unavailable") from None

    def check_size(self, value: bytes) -> None:
        """Refuse a value the store cannot hold, before any write of the request is made."""
        limit = self.max_value_bytes
        if len(value) > limit:
            raise McpgwError(ErrorCode.PAYLOAD_TOO_LARGE,
                             f"body: the stored configuration would take {len(value)} bytes; "
                             f"the configuration store accepts at most {limit}")

    async def get(self, key: str) -> Entry | None:
        try:
            entry = await self._call(f"get {key}", self._kv.get(key))
        except nats.js.errors.KeyNotFoundError:
            return None
        if entry.value is None or entry.revision is None:
            return None
        return Entry(key, entry.value, entry.revision)

    async def create(self, key: str, value: bytes) -> int:
        """Write `key` only if it does not exist (a deleted key counts as absent)."""
        self.check_size(value)
        try:
            return await self._call(f"create {key}", self._kv.create(key, value))
        except RevisionMismatch:
            raise KeyExists(key) from None

    async def put(self, key: str, value: bytes) -> int:
        """Write `key` whatever it holds (only for values no two writers build on)."""
        self.check_size(value)
        return await self._call(f"put {key}", self._kv.put(key, value))

    async def update(self, key: str, value: bytes, last: int) -> int:
        self.check_size(value)
        return await self._call(f"update {key}", self._kv.update(key, value, last=last))

    async def delete(self, key: str, last: int | None = None) -> None:
        await self._call(f"delete {key}", self._kv.delete(key, last=last))

    async def last_revision(self) -> int:
        """The bucket stream's last sequence: every write with a revision up to it has happened.

        Read before listing, it is a revision the listing reflects at least; read after a delete
        (whose own sequence nats-py does not return), one at least as new as the delete.
        """
        status = await self._call("status", self._kv.status())
        return int(status.stream_info.state.last_seq)

    async def scan(self, prefix: str) -> list[Entry]:
        """The current value of every `<prefix>.<token>` key (deleted keys left out)."""
        return await self._call(f"scan {prefix}", self._scan(prefix))

    async def _scan(self, prefix: str) -> list[Entry]:
        # Which keys exist, from the stream itself (one request), then each key's current value.
        # Not a KV watcher: nats-py's watch() can report "no more values" before the first one
        # has arrived, which made a list right after a create come back empty now and then.
        status = await self._kv.status()
        bucket = status.bucket
        marker = f"$KV.{bucket}."
        info = await self._js.stream_info(status.stream_info.config.name or f"KV_{bucket}",
                                          subjects_filter=f"{marker}{prefix}.*")
        return await self._current(sorted(subject[len(marker):] for subject in (info.state.subjects or {})))

    async def get_many(self, keys: Iterable[str]) -> list[Entry]:
        """The current value of each of `keys` that exists, in the order given."""
        return await self._call("get", self._current(list(keys)))

    async def _current(self, keys: list[str]) -> list[Entry]:
        limit = asyncio.Semaphore(32)

        async def current(key: str) -> Entry | None:
            async with limit:
                try:
                    found = await self._kv.get(key)
                except nats.js.errors.KeyNotFoundError:  # deleted, or purged meanwhile
                    return None
            if found.value is None or found.revision is None:
                return None
            return Entry(key, found.value, found.revision)

        return [e for e in await asyncio.gather(*(current(k) for k in keys)) if e is not None]
