-- wrk script for bench/submit.sh: allowed `POST /v1/actions`, each with its own params
-- (so no two share a digest), the agent's token from the environment.
local token = os.getenv("HOLDPOINT_BENCH_TOKEN")
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"kind":"db.read","resource":"postgres/prod/customers","environment":"prod",' ..
    '"params":{"sql":"SELECT * FROM customers WHERE id = $1","i":%d,"t":%d},' ..
    '"justification":"load test"}', counter, thread_id)
  return wrk.format("POST", "/v1/actions", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout
  io.write(string.format("requests %d, errors %d, p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, bad, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
