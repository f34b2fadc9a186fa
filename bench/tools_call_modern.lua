-- wrk script: one MCP 2026-07-28 tools/call per request: no session, its headers and _meta instead.
-- Set by run.py through environment variables: MCPGW_BENCH_TOOL, MCPGW_BENCH_AUTH.
local tool = os.getenv("MCPGW_BENCH_TOOL")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = tool
local auth = os.getenv("MCPGW_BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool ..
  '","arguments":{"id":1},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",' ..
  '"io.modelcontextprotocol/clientCapabilities":{},' ..
  '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"}}}}'

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

failed = 0
response = function(status, headers, body)
  -- a tool error or JSON-RPC error would make the numbers lie: count them
  if status ~= 200 or not string.find(body, '"isError":false', 1, true) then
    failed = failed + 1
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("failed")
  end
  io.write(string.format("bench-failures %d\n", total))
end
