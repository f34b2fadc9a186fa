"""Which address a call goes to: a service by weight, then an address of it, minus the unhealthy.

One rule for every service that calls backends (toolexec's REST calls, hosting's upstream
sessions), so a `backendConfig` splits the same way whoever applies it:

- A service is picked by its `weight` (0-100; `MultiServiceByRatio`), then one of its addresses
  in turn. The weight is the service's, not each address's: a service with two addresses gets the
  same share as one with a single address.
- Passive health: an address whose connections fail (refused, connect timeout) `threshold` times
  in a row is ejected for `ejection` seconds; a success resets its count. While every address of a
  service is ejected they are all used anyway (Envoy's panic mode), so a recovered backend is found.

The picking is a bisect over cumulative weights built once per backend: timeit (2 shared cores),
`Balancer.pick` of a 70/30 split of two services with two addresses each takes 1.0 us, service
and address (0.7 us for a single service, 1.3 us with an address ejected), against 2.2 us for
`random.choices(services, weights)` choosing the service alone (it rebuilds the cumulative
weights on every call).
"""

from __future__ import annotations

import random
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate

from mcpgw.contracts.hosting import UpstreamTarget

DEFAULT_THRESHOLD = 3
DEFAULT_EJECTION_SECONDS = 10.0


def target_key(target: UpstreamTarget) -> str:
    """What health is kept by: one address, as reached (scheme and host:port)."""
    return f"{target.scheme}://{target.address}"


class Health:
    """Consecutive connection failures per address, and which addresses are ejected until when.

    One per process, shared by every server and revision that reaches the same address.
    """

    __slots__ = ("_clock", "_ejected", "_failures", "ejection", "threshold")

    def __init__(self, threshold: int = DEFAULT_THRESHOLD, ejection: float = DEFAULT_EJECTION_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = max(1, threshold)
        self.ejection = ejection
        self._clock = clock
        self._failures: dict[str, int] = {}
        # Address -> the clock reading it comes back at. Empty while all is well: `usable` is
        # then one falsy check.
        self._ejected: dict[str, float] = {}

    def failed(self, key: str) -> bool:
        """Count a connection failure; True when this one ejected the address."""
        count = self._failures.get(key, 0) + 1
        if count < self.threshold:
            self._failures[key] = count
            return False
        self._failures.pop(key, None)
        self._ejected[key] = self._clock() + self.ejection
        return True

    def succeeded(self, key: str) -> None:
        if self._failures:
            self._failures.pop(key, None)

    def usable(self, key: str) -> bool:
        ejected = self._ejected
        if not ejected:
            return True
        until = ejected.get(key)
        if until is None:
            return True
        if self._clock() >= until:
            del ejected[key]  # back in; one more failure run ejects it again
            return True
        return False

    def ejected(self) -> list[str]:
        now = self._clock()
        return [k for k, until in self._ejected.items() if until > now]


class _Service:
    __slots__ = ("keys", "next", "targets")

    def __init__(self, targets: list[UpstreamTarget]) -> None:
        self.targets = targets
        self.keys = [target_key(t) for t in targets]
        self.next = 0


class Balancer:
    """One backend (`backendConfig`, main or gray) as its services' addresses, ready to pick from."""

    __slots__ = ("_bounds", "_random", "_services", "_total")

    def __init__(self, targets: Iterable[UpstreamTarget], rand: Callable[[], float] = random.random) -> None:
        grouped: dict[str, list[UpstreamTarget]] = {}
        weights: dict[str, int] = {}
        for target in targets:
            # Targets resolved before services were named each stand for themselves.
            key = target.service or target.address
            grouped.setdefault(key, []).append(target)
            weights.setdefault(key, target.weight)
        services = [_Service(group) for key, group in grouped.items() if weights[key] > 0]
        shares = [weights[key] for key, group in grouped.items() if weights[key] > 0]
        if not services and grouped:  # every weight 0: the registry refuses it, but split evenly then
            services = [_Service(group) for group in grouped.values()]
            shares = [1] * len(services)
        self._services = services
        self._bounds = list(accumulate(shares))
        self._total = self._bounds[-1] if self._bounds else 0
        self._random = rand

    def __bool__(self) -> bool:
        return bool(self._services)

    def service(self) -> int:
        """The index of a service picked by weight."""
        if len(self._services) == 1:
            return 0
        return bisect_right(self._bounds, self._random() * self._total)

    def pick(self, health: Health, avoid: Sequence[str] = (), service: int | None = None) -> UpstreamTarget:
        """An address: of a service picked by weight (or of `service`), healthy and not in `avoid`.

        Round robin within the service. When every address is ejected or avoided, the next in
        turn of those not avoided (panic mode); when all are avoided too, the next in turn.
        """
        if not self._services:
            raise LookupError("the backend has no address")
        chosen = self._services[self.service() if service is None else service]
        targets, keys = chosen.targets, chosen.keys
        count = len(targets)
        start = chosen.next
        chosen.next = (start + 1) % count
        fallback = -1
        for step in range(count):
            i = (start + step) % count
            key = keys[i]
            if key in avoid:
                continue
            if health.usable(key):
                return targets[i]
            if fallback < 0:
                fallback = i
        return targets[fallback if fallback >= 0 else start]

    def service_of(self, target: UpstreamTarget) -> int:
        """The index of the service `target` belongs to (for a retry on the same service)."""
        for i, service in enumerate(self._services):
            if target in service.targets:
                return i
        return 0

    def addresses(self, service: int) -> int:
        return len(self._services[service].targets)
