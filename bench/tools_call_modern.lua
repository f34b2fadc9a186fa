-- wrk script: one MCP 2026-07-28 tools/call per request: no session, its headers and _meta instead.
-- Set by run.py through environment variables: MCPGW_BENCH_TOOL, MCPGW_BENCH_AUTH.
dofile(debug.getinfo(1, "S").source:match("@(.*/)") .. "mcp_common.lua")
local tool = os.getenv("MCPGW_BENCH_TOOL")
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = tool
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool ..
  '","arguments":{"id":1},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",' ..
  '"io.modelcontextprotocol/clientCapabilities":{},' ..
  '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"}}}}'
