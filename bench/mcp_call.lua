-- wrk script: one MCP tools/call per request on an initialized Streamable HTTP session, each with a
-- JSON-RPC id of its own (an MCP server routes concurrent answers by id: repeated ids in flight on one
-- session would cross). The same script drives an upstream MCP server directly and the gateway.
-- Set by run.py through environment variables: MCPGW_BENCH_SESSION, MCPGW_BENCH_TOOL,
-- MCPGW_BENCH_ARGS (a JSON object) and MCPGW_BENCH_AUTH (optional bearer token).
dofile(debug.getinfo(1, "S").source:match("@(.*/)") .. "mcp_common.lua")
wrk.headers["Mcp-Session-Id"] = os.getenv("MCPGW_BENCH_SESSION")
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
local head = '{"jsonrpc":"2.0","id":'
local tail = ',"method":"tools/call","params":{"name":"' .. os.getenv("MCPGW_BENCH_TOOL") ..
  '","arguments":' .. (os.getenv("MCPGW_BENCH_ARGS") or "{}") .. '}}'

local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, head .. counter .. tail)
end
