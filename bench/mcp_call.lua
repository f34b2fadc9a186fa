-- wrk script: one MCP tools/call per request on an initialized Streamable HTTP session, each with a
-- JSON-RPC id of its own (an MCP server routes concurrent answers by id: repeated ids in flight on one
-- session would cross). The same script drives an upstream MCP server directly and the gateway.
-- Set by run.py through environment variables: MCPGW_BENCH_SESSION, MCPGW_BENCH_TOOL,
-- MCPGW_BENCH_ARGS (a JSON object) and MCPGW_BENCH_AUTH (optional bearer token).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Mcp-Session-Id"] = os.getenv("MCPGW_BENCH_SESSION")
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
local auth = os.getenv("MCPGW_BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end
local head = '{"jsonrpc":"2.0","id":'
local tail = ',"method":"tools/call","params":{"name":"' .. os.getenv("MCPGW_BENCH_TOOL") ..
  '","arguments":' .. (os.getenv("MCPGW_BENCH_ARGS") or "{}") .. '}}'

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, head .. counter .. tail)
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
