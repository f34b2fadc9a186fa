-- What every MCP wrk script of the benchmarks shares: the POST and its content headers, the bearer
-- token from MCPGW_BENCH_AUTH, and counting failed calls (a tool error or a JSON-RPC error would
-- make the numbers lie) into one "bench-failures N" line that run.py reads.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
local auth = os.getenv("MCPGW_BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

failed = 0
response = function(status, headers, body)
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
