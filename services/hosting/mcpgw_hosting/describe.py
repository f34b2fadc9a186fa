"""What an upstream says about itself, for clients' `initialize` (edge) and assembly checks (registry).

Asked once per server (and per consumer with its own upstream credential) and kept for
`describe_ttl` seconds: a probe session is opened, read and ended.
"""

from __future__ import annotations

import asyncio
import time

import msgspec

from mcpgw.contracts import (
    ErrorCode,
    McpgwError,
    UpstreamConfig,
    UpstreamDescribe,
    UpstreamDescription,
    UpstreamTools,
    UpstreamToolsReply,
)
from mcpgw.jsonrpc import NULL
from mcpgw.protocol import LATEST_VERSION
from mcpgw_hosting.configs import UpstreamConfigs
from mcpgw_hosting.modern import ModernPassThrough
from mcpgw_hosting.sessions import open_initialized
from mcpgw_hosting.settings import HostingSettings
from mcpgw_hosting.upstream.errors import UpstreamError
from mcpgw_hosting.upstream.http import UpstreamHttp
from mcpgw_hosting.upstream.streamable import ignore

# A probe lists at most this many pages of tools.
MAX_PAGES = 100


class _Tool(msgspec.Struct):
    name: str


class _ToolsPage(msgspec.Struct):
    tools: list[_Tool] = []
    nextCursor: str | None = None


class _ToolsAnswer(msgspec.Struct):
    result: _ToolsPage | None = None
    error: msgspec.Raw = msgspec.field(default_factory=lambda: NULL)


_tools_answer = msgspec.json.Decoder(_ToolsAnswer)



class Describer:
    def __init__(self, http: UpstreamHttp, configs: UpstreamConfigs, settings: HostingSettings,
                 modern: ModernPassThrough) -> None:
        self._http = http
        self._modern = modern
        self._configs = configs
        self._settings = settings
        self._described: dict[tuple[str, int, str], tuple[float, UpstreamDescription]] = {}
        self._tools: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._inflight: dict[tuple[str, int, str], asyncio.Task[UpstreamDescription]] = {}

    async def describe(self, request: UpstreamDescribe) -> UpstreamDescription:
        config = await self._configs.get(request.server_id, request.consumer_id)
        key = (config.server_id, config.revision, request.consumer_id if config.per_consumer else "")
        cached = self._described.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        task = self._inflight.get(key)
        if task is None:
            task = self._inflight[key] = asyncio.get_running_loop().create_task(self._probe(config))
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        description = await asyncio.shield(task)
        self._described[key] = (time.monotonic() + self._settings.describe_ttl, description)
        return description

    async def _probe(self, config: UpstreamConfig) -> UpstreamDescription:
        if config.backend.transport == "StreamableHTTP" and await self._modern.modern_only(config):
            # No initialize to ask: what its discovery says, for a handshake-era client's initialize.
            found = await self._modern.discover(config)
            assert found is not None
            info = found.meta.get("io.modelcontextprotocol/serverInfo") or {"name": config.name, "version": "0"}
            return UpstreamDescription(protocol_version=LATEST_VERSION,
                                       capabilities=msgspec.Raw(msgspec.json.encode(found.capabilities)),
                                       server_info=msgspec.Raw(msgspec.json.encode(info)),
                                       instructions=found.instructions or "")
        try:
            async with asyncio.timeout(self._settings.describe_timeout):
                upstream, result = await open_initialized(self._http, self._settings, config, ignore)
                await upstream.close()
        except UpstreamError as exc:
            raise McpgwError(ErrorCode.NO_RESPONDERS, f"upstream of {config.name}: {exc.message}") from None
        except TimeoutError:
            raise McpgwError(ErrorCode.TIMEOUT, f"upstream of {config.name} did not answer initialize within "
                                                f"{self._settings.describe_timeout:g}s") from None
        return UpstreamDescription(protocol_version=result.protocolVersion, capabilities=result.capabilities,
                                   server_info=result.serverInfo, instructions=result.instructions or "")

    async def tools(self, request: UpstreamTools) -> UpstreamToolsReply:
        config = await self._configs.get(request.server_id, "")
        key = (config.server_id, config.revision)
        cached = self._tools.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return UpstreamToolsReply(names=cached[1])
        try:
            async with asyncio.timeout(self._settings.describe_timeout):
                names = await self._tool_names(config)
        except TimeoutError:
            raise McpgwError(ErrorCode.TIMEOUT, f"upstream of {config.name} did not list its tools within "
                                                f"{self._settings.describe_timeout:g}s") from None
        self._tools[key] = (time.monotonic() + self._settings.describe_ttl, names)
        return UpstreamToolsReply(names=names)

    async def _tool_names(self, config: UpstreamConfig) -> list[str]:
        try:
            upstream, _ = await open_initialized(self._http, self._settings, config, ignore)
        except UpstreamError as exc:
            raise McpgwError(ErrorCode.NO_RESPONDERS, f"upstream of {config.name}: {exc.message}") from None
        names: list[str] = []
        try:
            cursor: str | None = None
            for page in range(MAX_PAGES):
                params = {} if cursor is None else {"cursor": cursor}
                body = msgspec.json.encode({"jsonrpc": "2.0", "id": page, "method": "tools/list", "params": params})
                raw = await upstream.post(body, page, ignore)
                answer = _tools_answer.decode(raw or b"{}")
                if answer.result is None:
                    raise UpstreamError("upstream refused tools/list")
                names.extend(t.name for t in answer.result.tools)
                cursor = answer.result.nextCursor
                if not cursor:
                    break
        except (UpstreamError, msgspec.DecodeError) as exc:
            problem = exc.message if isinstance(exc, UpstreamError) else f"nonsense: {exc}"
            raise McpgwError(ErrorCode.NO_RESPONDERS, f"upstream of {config.name}: {problem}") from None
        finally:
            await upstream.close()
        return names
