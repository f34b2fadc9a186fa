"""Grants (authorization rules, `car-…`): which consumer may use which server, or which of its tools.

The console's rules, kept here: a server-level grant wins over tool-level ones (the consumer sees
every tool); several tool-level grants on one server add up; an expired grant counts for nothing;
a server with consumer authentication on and no grant for the consumer is closed to it.

Expiry is judged when a request is decided, not when the index loads: a grant runs out while the
index sits in memory.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from mcpgw.contracts import Grant

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Access:
    """The outcome for one consumer on one server. `tools` None: every tool."""

    allowed: bool
    tools: list[str] | None = None
    # The earliest expiry (unix ms) among the rules that granted this; 0: none expires.
    expires_at: int = 0


DENIED = Access(False)
EVERYTHING = Access(True)


@dataclass(frozen=True)
class GrantTable:
    # server id -> consumer id -> that consumer's grants on that server
    by_server: dict[str, dict[str, tuple[Grant, ...]]] = field(default_factory=dict)

    @classmethod
    def build(cls, grants: list[Grant]) -> GrantTable:
        table: dict[str, dict[str, list[Grant]]] = {}
        for grant in grants:
            if not grant.server_id or not grant.consumer_id:
                log.warning("grant %s names no server or no consumer; ignored", grant.rule_id)
                continue
            if grant.tools is not None and not any(grant.tools):
                # An empty tool list would read as "allowed, no tools": it grants nothing.
                log.debug("grant %s lists no tools; ignored", grant.rule_id)
                continue
            table.setdefault(grant.server_id, {}).setdefault(grant.consumer_id, []).append(grant)
        return cls({server: {consumer: tuple(rules) for consumer, rules in consumers.items()}
                    for server, consumers in table.items()})

    def access(self, consumer_id: str, server_id: str, now_ms: int | None = None) -> Access:
        rules = self.by_server.get(server_id, {}).get(consumer_id, ())
        if not rules:
            return DENIED
        now = int(time.time() * 1000) if now_ms is None else now_ms
        tools: set[str] = set()
        granted = False
        expires = 0
        for rule in rules:
            if rule.expires_at and rule.expires_at <= now:
                continue
            if rule.tools is None:
                # The server-level grant that lasts longest decides how long this answer holds.
                best = max((r for r in rules if r.tools is None and (not r.expires_at or r.expires_at > now)),
                           key=lambda r: r.expires_at or 2**62)
                return Access(True, None, best.expires_at) if best.expires_at else EVERYTHING
            tools.update(t for t in rule.tools if t)
            granted = True
            if rule.expires_at:
                expires = rule.expires_at if not expires else min(expires, rule.expires_at)
        return Access(True, sorted(tools), expires) if granted else DENIED

    def __len__(self) -> int:
        return sum(len(rules) for consumers in self.by_server.values() for rules in consumers.values())
