"""The shared picking rule (`mcpgw.balancing`): a service by weight, then an address; passive health."""

from __future__ import annotations

import random
from collections import Counter

from mcpgw.balancing import Balancer, Health, target_key
from mcpgw.contracts import UpstreamTarget


def _targets(*services: tuple[str, int, int]) -> list[UpstreamTarget]:
    """(service, weight, addresses) -> its targets, as the registry resolves them."""
    return [UpstreamTarget(address=f"{name}{i}:80", weight=weight, service=name)
            for name, weight, count in services for i in range(count)]


def test_ten_thousand_picks_split_within_two_percent_of_the_weights() -> None:
    balancer = Balancer(_targets(("a", 70, 1), ("b", 30, 1)), rand=random.Random(13).random)
    health = Health()
    picks = Counter(balancer.pick(health).service for _ in range(10_000))
    assert abs(picks["a"] / 10_000 - 0.70) <= 0.02 and abs(picks["b"] / 10_000 - 0.30) <= 0.02, picks


def test_the_weight_is_the_service_s_whatever_its_number_of_addresses() -> None:
    # Hosting used to weight each address by its service's weight: two addresses doubled a share.
    balancer = Balancer(_targets(("a", 50, 2), ("b", 50, 1)), rand=random.Random(5).random)
    health = Health()
    picks = Counter(balancer.pick(health).address for _ in range(10_000))
    assert abs((picks["a0:80"] + picks["a1:80"]) / 10_000 - 0.5) <= 0.02, picks
    assert abs(picks["a0:80"] - picks["a1:80"]) <= 1  # round robin within the service


def test_a_zero_weight_service_gets_nothing_and_single_service_needs_no_draw() -> None:
    def never() -> float:
        raise AssertionError("one service: no random draw")

    assert {Balancer(_targets(("a", 100, 1), ("b", 0, 1))).pick(Health()).service for _ in range(200)} == {"a"}
    one = Balancer(_targets(("a", 100, 2)), rand=never)
    assert {one.pick(Health()).address for _ in range(4)} == {"a0:80", "a1:80"}


def test_consecutive_failures_eject_for_a_while_and_a_success_resets() -> None:
    now = [100.0]
    health = Health(threshold=3, ejection=10.0, clock=lambda: now[0])
    key = "http://a0:80"
    assert not health.failed(key) and not health.failed(key)
    health.succeeded(key)  # the run is broken: counting starts again
    assert not health.failed(key) and not health.failed(key)
    assert health.usable(key)
    assert health.failed(key)  # the third in a row ejects
    assert not health.usable(key) and health.ejected() == [key]
    now[0] += 9.9
    assert not health.usable(key)
    now[0] += 0.2
    assert health.usable(key) and health.ejected() == []


def test_an_ejected_address_is_skipped_and_all_ejected_means_all_used() -> None:
    targets = _targets(("a", 100, 2))
    balancer = Balancer(targets)
    health = Health(threshold=1)
    health.failed(target_key(targets[0]))
    assert {balancer.pick(health).address for _ in range(6)} == {"a1:80"}
    health.failed(target_key(targets[1]))  # every address out: panic mode uses them all again
    assert {balancer.pick(health).address for _ in range(6)} == {"a0:80", "a1:80"}


def test_a_retry_avoids_the_addresses_tried_and_stays_in_the_service() -> None:
    targets = _targets(("a", 50, 3), ("b", 50, 1))
    balancer = Balancer(targets)
    service = balancer.service_of(targets[1])
    tried = [target_key(targets[1]), target_key(targets[2])]
    assert {balancer.pick(Health(), tried, service).address for _ in range(5)} == {"a0:80"}
    assert balancer.addresses(service) == 3
