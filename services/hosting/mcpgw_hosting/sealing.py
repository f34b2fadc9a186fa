"""`requestState` the gateway makes itself (bridging a 2026-07-28 client to a handshake-era upstream).

Sealed with AES-GCM under a key every hosting replica shares (`MCPGW_HOSTING_STATE_KEY`), bound to
the server and consumer it was issued for, and valid for a bounded time: a client can carry it but
neither read nor change it, nor use it for another server or as another consumer.
"""

from __future__ import annotations

import base64
import binascii
import os
import time

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "mcpgw1."


class Sealed(msgspec.Struct, array_like=True):
    worker: str
    held: str
    expires: float


class StateInvalid(Exception):
    pass


def key_from(setting: str) -> bytes:
    """The key in a setting (base64 of 16, 24 or 32 bytes); a random one when it is empty."""
    if not setting:
        return AESGCM.generate_key(bit_length=256)
    try:
        key = base64.b64decode(setting, validate=True)
    except binascii.Error:
        raise ValueError("state_key must be base64") from None
    if len(key) not in (16, 24, 32):
        raise ValueError("state_key must be 16, 24 or 32 bytes (base64)")
    return key


class Sealer:
    def __init__(self, key: bytes, lifetime: float) -> None:
        self._aead = AESGCM(key)
        self._lifetime = lifetime

    def seal(self, state: Sealed, server_id: str, consumer_id: str) -> str:
        nonce = os.urandom(12)
        data = self._aead.encrypt(nonce, msgspec.json.encode(state), f"{server_id}\n{consumer_id}".encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + data).decode().rstrip("=")

    def new(self, worker: str, held: str) -> Sealed:
        return Sealed(worker, held, time.time() + self._lifetime)

    def open(self, token: str, server_id: str, consumer_id: str) -> Sealed:
        if not token.startswith(PREFIX):
            raise StateInvalid("requestState was not issued by this gateway")
        raw = token[len(PREFIX):]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            plain = self._aead.decrypt(blob[:12], blob[12:], f"{server_id}\n{consumer_id}".encode())
            state = msgspec.json.decode(plain, type=Sealed)
        except (binascii.Error, InvalidTag, ValueError, msgspec.DecodeError):
            raise StateInvalid("requestState is invalid or was altered") from None
        if state.expires < time.time():
            raise StateInvalid("requestState has expired")
        return state
