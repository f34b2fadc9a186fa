"""A consumer's inline JWT keys as auth holds them: parsed by the shared rule, cached, problems logged.

Which material is acceptable and how it is parsed is `mcpgw.jwtkeys`, the rule the registry checks
on save. Here it is applied leniently: a key that cannot be used is skipped (and logged, by its
place and `kid`, never its material) so that the consumer's other keys still work.
"""

from __future__ import annotations

import functools
import logging

from mcpgw.jwtkeys import UnusableKey, VerifierKey, is_symmetric, parse_material

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1024)
def parse_static(secret_type: str, material: str, origin: str) -> tuple[VerifierKey, ...]:
    """The keys a consumer configures inline (`jwks`); () when there are none it can use.

    Cached by content, so reloading the index after an unrelated change parses nothing again.
    """
    if not material.strip():
        return ()
    try:
        parsed = parse_material(material, symmetric=is_symmetric(secret_type))
    except UnusableKey as exc:
        log.warning("%s: JWT key material unusable: %s", origin, exc)
        return ()
    for problem in parsed.unusable:
        log.warning("%s: JWT key skipped: %s", origin, problem)
    return parsed.keys
