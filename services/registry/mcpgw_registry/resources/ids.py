"""Resource ids: a fixed prefix plus 16 random lowercase alphanumerics.

Ids go into KV keys and NATS subjects, so they are restricted to [a-z0-9-]; anything a caller
sends that does not have this shape cannot name a stored resource and is answered 404 early.
"""

from __future__ import annotations

import re
import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits
_LENGTH = 16

SERVER_PREFIX = "mcp-"
CONSUMER_PREFIX = "cs-"
CREDENTIAL_PREFIX = "ck-"
RULE_PREFIX = "car-"
SERVICE_PREFIX = "svc-"
DOMAIN_PREFIX = "d-"


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))


def _shape(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}[a-z0-9]{{{_LENGTH}}}$")


_SERVER = _shape(SERVER_PREFIX)
_CONSUMER = _shape(CONSUMER_PREFIX)
_CREDENTIAL = _shape(CREDENTIAL_PREFIX)
_RULE = _shape(RULE_PREFIX)
_SERVICE = _shape(SERVICE_PREFIX)
_DOMAIN = _shape(DOMAIN_PREFIX)


def is_server_id(value: str) -> bool:
    return bool(_SERVER.match(value))


def is_consumer_id(value: str) -> bool:
    return bool(_CONSUMER.match(value))


def is_credential_id(value: str) -> bool:
    return bool(_CREDENTIAL.match(value))


def is_rule_id(value: str) -> bool:
    return bool(_RULE.match(value))


def is_service_id(value: str) -> bool:
    return bool(_SERVICE.match(value))


def is_domain_id(value: str) -> bool:
    return bool(_DOMAIN.match(value))
