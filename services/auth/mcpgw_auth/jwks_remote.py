"""Remote JWKS: fetched over HTTP(S), cached, refreshed in the background, rotated on unknown `kid`.

One `RemoteJwks` per URL lives for as long as some consumer names it, across index reloads, so a
consumer edit does not throw its cached keys away. The rules:
- a fetch is bounded (connect and total timeouts, a size cap) and at most one runs per URL;
- a copy is fresh for the response's `Cache-Control: max-age`, clamped to [60 s, 1 h] (5 min when
  absent); past that, callers keep using it while a background fetch replaces it;
- a failed fetch keeps the copy we have: an identity provider's hiccup must not log everyone out;
- a token naming a `kid` we do not know forces a fetch (key rotation), at most once per interval
  per URL, so a stream of forged `kid`s cannot turn us into a load generator against the IdP;
- while there is no copy at all (the IdP was down when its consumer was loaded), every token waits
  for a fetch: the one in flight, else a new one. The retry interval that paces background refreshes
  does not hold it back, so the first token after the IdP answers again is checked against it;
  such fetches start at most every `no_copy_gap` seconds per URL (tokens meanwhile join the next).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from mcpgw.jwtkeys import UnusableKey, VerifierKey, parse_jwks

log = logging.getLogger(__name__)

Keys = tuple[VerifierKey, ...]
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class JwksPolicy:
    connect_timeout: float = 2.0
    total_timeout: float = 5.0
    max_bytes: int = 1 << 20
    default_max_age: float = 300.0
    min_max_age: float = 60.0
    max_max_age: float = 3600.0
    # Forced refreshes (a token with an unknown kid), per URL.
    min_refresh_interval: float = 30.0
    # Pause after a fetch started before a background one may start again.
    retry_interval: float = 5.0
    # Fetches for tokens while there is no copy start at most this often: a token waits at most
    # this long more than the fetch, and an IdP that is down sees at most ten attempts a second
    # from each auth replica.
    no_copy_gap: float = 0.1
    # How long a verify waits for a fetch in flight; the fetch itself goes on.
    wait: float = 2.5


class FetchError(Exception):
    """A JWKS could not be had; the message names neither keys nor tokens."""


def usable_url(url: str) -> bool:
    try:
        parsed = URL(url.strip())
    except (ValueError, TypeError):
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host)


def display(url: str) -> str:
    """The URL for logs: no credentials or query string (either may carry a secret)."""
    parsed = URL(url)
    return str(parsed.with_user(None).with_query(None).with_fragment(None))


def max_age_of(cache_control: str | None, policy: JwksPolicy) -> float:
    if cache_control:
        lowered = cache_control.lower()
        if "no-store" in lowered or "no-cache" in lowered:
            return policy.min_max_age
        found = _MAX_AGE.search(cache_control)
        if found:
            return min(max(float(found.group(1)), policy.min_max_age), policy.max_max_age)
    return policy.default_max_age


class RemoteJwks:
    def __init__(self, url: str, cache: JwksCache) -> None:
        self.url = url
        self._cache = cache
        self.keys: Keys | None = None
        self.fresh_until = 0.0
        self.last_attempt = -float("inf")
        self.last_forced = -float("inf")
        self.fetches = 0  # attempts, for tests and metrics
        self._task: asyncio.Task[None] | None = None

    def current(self) -> Keys | None:
        """The keys now, without waiting; starts a background fetch when the copy is old or absent."""
        now = self._cache.clock()
        stale = self.keys is None or now >= self.fresh_until
        if stale and now - self.last_attempt >= self._cache.policy.retry_interval:
            self._start()
        return self.keys

    async def loaded(self) -> Keys | None:
        """The keys, waiting (bounded) for a fetch when there is no copy yet: the one in flight, else
        a new one (started no sooner than `no_copy_gap` after the last one)."""
        keys = self.current()
        if keys is not None:
            return keys
        if self._task is None or self._task.done():
            gap = self.last_attempt + self._cache.policy.no_copy_gap - self._cache.clock()
            self._start(delay=max(gap, 0.0))
        await self._await_task()
        return self.keys

    async def refresh_for_unknown_kid(self) -> Keys | None:
        """Fetch again for a kid we lack, unless one was forced too recently."""
        now = self._cache.clock()
        if self._task is None or self._task.done():
            if now - self.last_forced < self._cache.policy.min_refresh_interval:
                return self.keys
            self.last_forced = now
            self._start()
        await self._await_task()
        return self.keys

    def _start(self, delay: float = 0.0) -> None:
        if self._task is None or self._task.done():
            self._task = self._cache.spawn(self._refresh(delay))

    async def _await_task(self) -> None:
        task = self._task
        if task is None:
            return
        # shield: a verify that stops waiting must not cancel the fetch others rely on.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), self._cache.policy.wait)

    async def _refresh(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)  # the pace of fetches without a copy; tokens meanwhile join this one
        self.last_attempt = self._cache.clock()
        self.fetches += 1
        try:
            keys, max_age = await self._cache.fetch(self.url)
        except FetchError as exc:
            kept = "keeping the copy we have" if self.keys is not None else "no copy yet"
            log.warning("JWKS %s: %s; %s", display(self.url), exc, kept)
            return
        self.keys = keys
        self.fresh_until = self._cache.clock() + max_age
        log.info("JWKS %s: %d key(s), fresh for %gs", display(self.url), len(keys), max_age)


class JwksCache:
    """Every remote JWKS in use, with one HTTP session for all of them."""

    def __init__(self, policy: JwksPolicy | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or JwksPolicy()
        self.clock = clock
        self._entries: dict[str, RemoteJwks] = {}
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, url: str) -> RemoteJwks:
        entry = self._entries.get(url)
        if entry is None:
            entry = self._entries[url] = RemoteJwks(url, self)
        return entry

    def retain(self, urls: set[str]) -> None:
        """Forget the URLs no consumer names any more (a fetch in flight just finishes)."""
        for url in [u for u in self._entries if u not in urls]:
            del self._entries[url]

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def fetch(self, url: str) -> tuple[Keys, float]:
        policy = self.policy
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=policy.total_timeout, connect=policy.connect_timeout),
                headers={"Accept": "application/jwk-set+json, application/json"},
            )
        try:
            async with self._session.get(url, max_redirects=3) as response:
                if response.status != 200:
                    raise FetchError(f"HTTP {response.status}")
                if response.content_length is not None and response.content_length > policy.max_bytes:
                    raise FetchError(f"larger than {policy.max_bytes} bytes")
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > policy.max_bytes:
                        raise FetchError(f"larger than {policy.max_bytes} bytes")
                max_age = max_age_of(response.headers.get("Cache-Control"), policy)
        except TimeoutError:
            raise FetchError(f"no answer within {policy.total_timeout:g}s") from None
        except aiohttp.ClientError as exc:
            raise FetchError(f"fetch failed ({type(exc).__name__})") from None
        try:
            document = json.loads(body)
            keys, unusable = parse_jwks(document, symmetric=False)
        except (ValueError, RecursionError, UnusableKey):
            raise FetchError("not a JWKS document") from None
        for problem in unusable:
            log.warning("JWKS %s: key skipped: %s", display(url), problem)
        return keys, max_age

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None
