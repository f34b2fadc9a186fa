"""Server records in the KV bucket, with their large parts beside them in the object store.

A KV value must fit one NATS message (1 MiB by default), and an imported server's tools text
alone can take tens of megabytes. So a record is stored in up to three parts:

- the KV value `servers.<id>`, always small (under `inline_bytes`);
- when the whole record would be larger, its tools text in an object
  `<id>.tools.<sha256>`, together with the document it compiled to (readers never re-parse
  megabytes of YAML) and whether it holds credentials (readers need not look for them);
- when even the record without its tools text is too large (thousands of overrides, huge canary
  rules), the record itself in an object `<id>.record.<sha256>`; the KV value then holds just
  id, name and `overflow`.

Objects are content-addressed (sha256 of what they hold) and named per server, so an unchanged
part is never uploaded twice and a server only ever deletes its own objects. Writers put the
objects first and the KV value last: a crash in between leaves only an unreferenced object,
never a record pointing at nothing. Objects the record no longer references are deleted after a
successful write (best effort).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.contracts.tools import ServerBlock, ToolsDocument
from mcpgw_registry.resources.servers.model import BlobRef, ServerRecord
from mcpgw_registry.resources.tools.config_secrets import secret_config
from mcpgw_registry.resources.tools.document import ToolsFormat, parse_tools
from mcpgw_registry.resources.tools.secrets import credentials_of, has_credentials, mask, stored_credentials
from mcpgw_registry.stores.blobs import BlobStore

log = logging.getLogger(__name__)

# Keep KV values well under one NATS message: listing and lookups stay cheap, and a record has
# room to grow a little without changing its layout.
DEFAULT_INLINE_BYTES = 256 * 1024
TOOLS_ROOT = "mcpServerConfig"


class StoredTools(msgspec.Struct, kw_only=True):
    """The content of a tools object."""

    text: str
    format: ToolsFormat
    # The document `text` parses to, as compiled when it was written (validated then).
    doc: msgspec.Raw
    # Whether the document holds a secret, i.e. whether reads must mask (see `resources.tools.secrets`).
    secrets: bool = False


class _ServerOnly(msgspec.Struct):
    server: ServerBlock


_encode = msgspec.json.Encoder().encode
_decode_record = msgspec.json.Decoder(ServerRecord).decode
_decode_tools = msgspec.json.Decoder(StoredTools).decode
_decode_doc = msgspec.json.Decoder(ToolsDocument).decode
_decode_server = msgspec.json.Decoder(_ServerOnly).decode


def _holds_secrets(record: ServerRecord, stored: StoredTools) -> bool:
    if record.tools_secrets is not None:
        return record.tools_secrets
    # Written before config values could be secret: `secrets` speaks for credentials only, so the
    # server block (small; the tools are skipped unread) says the rest.
    if stored.secrets:
        return True
    server = _decode_server(stored.doc).server
    return next(secret_config(server.config, server.secret_config), None) is not None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def references(record: ServerRecord) -> set[str]:
    """Every object a stored (or loaded) record refers to."""
    names: set[str] = set()
    if isinstance(record.tools_text, BlobRef):
        names.add(record.tools_text.name)
    if record.overflow is not None:
        names.add(record.overflow.name)
    if record.imported is not None and record.imported.blob:
        names.add(record.imported.blob)
    return names


@dataclass(frozen=True)
class Tools:
    """A server's tools document: as parsed, and the text it was read from."""

    doc: ToolsDocument
    text: str
    format: ToolsFormat


@dataclass
class Encoded:
    """A record ready to write: the KV value, and the objects to put before it."""

    value: bytes
    blobs: dict[str, bytes] = field(default_factory=dict)
    # Every object the written record refers to (those in `blobs` and those it keeps).
    refs: set[str] = field(default_factory=set)


class ServerStorage:
    def __init__(self, blobs: BlobStore, *, inline_bytes: int) -> None:
        self.blobs = blobs
        self.inline_bytes = inline_bytes

    # writing

    def encode(self, record: ServerRecord, doc: ToolsDocument | None) -> Encoded:
        """`record` as stored; `doc` is its tools text parsed (every write path passes the one it compiled)."""
        secrets = has_credentials(doc) if doc is not None and record.tools_text else None
        stored = msgspec.structs.replace(record, overflow=None, tools_secrets=secrets)
        value = _encode(stored)
        blobs: dict[str, bytes] = {}
        if len(value) > self.inline_bytes and isinstance(stored.tools_text, str) and stored.tools_text:
            if doc is None:
                # Every write path passes the document it compiled; this is only a fallback.
                doc = parse_tools(stored.tools_text, stored.tools_format, root=TOOLS_ROOT)
                stored.tools_secrets = has_credentials(doc)
            payload = _encode(StoredTools(text=stored.tools_text, format=stored.tools_format,
                                          doc=msgspec.Raw(_encode(doc)), secrets=bool(stored.tools_secrets)))
            ref = self._ref("tools", record.id, payload)
            blobs[ref.name] = payload
            stored = msgspec.structs.replace(stored, tools_text=ref)
            value = _encode(stored)
        refs = references(stored)
        if len(value) > self.inline_bytes:
            ref = self._ref("record", record.id, value)
            blobs[ref.name] = value
            refs.add(ref.name)
            value = _encode(ServerRecord(id=record.id, name=record.name, overflow=ref))
        return Encoded(value, blobs, refs)

    @staticmethod
    def _ref(kind: str, server_id: str, payload: bytes) -> BlobRef:
        digest = _sha256(payload)
        return BlobRef(name=f"{server_id}.{kind}.{digest}", sha256=digest, size=len(payload))

    # reading

    async def decode(self, value: bytes) -> ServerRecord:
        """A KV value as the whole record (fetching it when it overflowed); raises DecodeError."""
        record = _decode_record(value)
        ref = record.overflow
        if ref is None:
            return record
        data = await self._fetch(ref, record.name)
        full = _decode_record(data)
        if full.id != record.id:
            raise msgspec.DecodeError(f"object {ref.name} holds another record ({full.id})")
        return msgspec.structs.replace(full, overflow=ref)

    async def _fetch(self, ref: BlobRef, server_name: str) -> bytes:
        data = await self.blobs.get(ref.name)
        if data is None or _sha256(data) != ref.sha256:
            log.error("object %s of MCP server %s is missing or damaged", ref.name, server_name)
            raise McpgwError(ErrorCode.INTERNAL, f"the stored configuration of MCP server {server_name!r} is "
                                                 "incomplete (an object of it is missing); save it again")
        return data

    async def _tools(self, record: ServerRecord, ref: BlobRef) -> StoredTools:
        return _decode_tools(await self._fetch(ref, record.name))

    async def readable_tools_text(self, record: ServerRecord) -> str:
        """The tools document as readers may see it: secrets masked."""
        if isinstance(record.tools_text, str):
            if record.tools_secrets is False:
                return record.tools_text
            return mask(record.tools_text, record.tools_format) if record.tools_text else ""
        stored = await self._tools(record, record.tools_text)
        return mask(stored.text, stored.format) if _holds_secrets(record, stored) else stored.text

    async def tools(self, record: ServerRecord) -> Tools | None:
        """The tools document with its text; from an object, the document compiled when it was written."""
        if isinstance(record.tools_text, str):
            if not record.tools_text:
                return None
            doc = parse_tools(record.tools_text, record.tools_format, root=TOOLS_ROOT)
            return Tools(doc, record.tools_text, record.tools_format)
        stored = await self._tools(record, record.tools_text)
        return Tools(_decode_doc(stored.doc), stored.text, stored.format)

    async def tools_document(self, record: ServerRecord) -> ToolsDocument | None:
        if isinstance(record.tools_text, str):
            if not record.tools_text:
                return None
            return parse_tools(record.tools_text, record.tools_format, root=TOOLS_ROOT)
        return _decode_doc((await self._tools(record, record.tools_text)).doc)

    async def credentials(self, record: ServerRecord) -> dict[str, Any]:
        """The secrets stored in the tools document, by place (see `resources.tools.secrets.restore`)."""
        if isinstance(record.tools_text, str):
            if record.tools_secrets is False:
                return {}
            return stored_credentials(record.tools_text, record.tools_format)
        stored = await self._tools(record, record.tools_text)
        if not _holds_secrets(record, stored):
            return {}
        return credentials_of(msgspec.to_builtins(_decode_doc(stored.doc)))
