"""JSON encoding shared by the bus: one encoder, one cached decoder per reply type."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgspec

from mcpgw.contracts.errors import ErrorReply

encoder = msgspec.json.Encoder()
encode = encoder.encode


@lru_cache(maxsize=256)
def decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


@lru_cache(maxsize=256)
def reply_decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    """Decodes either the expected reply or an `ErrorReply`, told apart by their tags."""
    return msgspec.json.Decoder(kind | ErrorReply)
