-- wrk script: one MCP tools/call per request on an initialized Streamable HTTP session.
-- Set by run.py through environment variables: MCPGW_BENCH_SESSION, MCPGW_BENCH_TOOL, MCPGW_BENCH_AUTH.
dofile(debug.getinfo(1, "S").source:match("@(.*/)") .. "mcp_common.lua")
wrk.headers["Mcp-Session-Id"] = os.getenv("MCPGW_BENCH_SESSION")
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' ..
  os.getenv("MCPGW_BENCH_TOOL") .. '","arguments":{"id":1}}}'
