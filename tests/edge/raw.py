"""A raw HTTP view of the MCP endpoint, for status-code and header assertions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict

ACCEPT_BOTH = "application/json, text/event-stream"
TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class Answer:
    status: int
    # Header names are case-insensitive (the edge writes them lowercase, as HTTP/2 must).
    headers: CIMultiDict[str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class Raw:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.session_id: str | None = None
        self.version: str | None = None
        # Sent with every request (a consumer's credential).
        self.headers: dict[str, str] = {}

    async def send(self, body: Any, *, method: str = "POST", headers: dict[str, str] | None = None,
                   raw: bytes | None = None, session: bool = True) -> Answer:
        sent = {"Accept": ACCEPT_BOTH, "Content-Type": "application/json"}
        if session and self.session_id:
            sent["Mcp-Session-Id"] = self.session_id
        if session and self.version:
            sent["MCP-Protocol-Version"] = self.version
        sent.update(self.headers)
        sent.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        async with self.http.request(method, self.url, data=data, headers=sent, timeout=TIMEOUT) as resp:
            return Answer(resp.status, CIMultiDict(resp.headers), await resp.text())

    def stream_headers(self) -> dict[str, str]:
        """What a GET for the session's standalone SSE stream sends."""
        return {"Accept": "text/event-stream", "Mcp-Session-Id": self.session_id or "",
                "MCP-Protocol-Version": self.version or "", **self.headers}

    async def initialize(self, version: str = "2025-11-25") -> Answer:
        answer = await self.send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
            session=False)
        assert answer.status == 200, answer.text
        self.session_id = answer.headers["Mcp-Session-Id"]
        self.version = answer.json["result"]["protocolVersion"]
        initialized = await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert initialized.status == 202 and initialized.text == ""
        return answer

    async def initialize_with(self, headers: dict[str, str], version: str = "2025-11-25") -> Answer:
        self.headers = headers
        return await self.initialize(version)

    async def call(self, method: str, params: Any = None, request_id: int = 1) -> Answer:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        return await self.send(message)
