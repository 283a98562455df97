-- One wrk scenario driven by environment variables, so every HTTP figure is verified by status counts.
--   BENCH_METHOD      GET or POST (default GET)
--   BENCH_PATHS       file with one path per line, rotated through (default: wrk's URL path)
--   BENCH_BODIES      file with one request body per line, rotated through (POST)
--   BENCH_HEADERS     file with "Name: value" lines added to every request
--   BENCH_OK          the status that counts as success (default 200)
-- At the end it prints one line: BENCH_JSON {...} with successes, failures and latency percentiles (µs).

local function lines(name)
  local out = {}
  local path = os.getenv(name)
  if path == nil or path == "" then return out end
  for line in io.lines(path) do
    if line ~= "" then table.insert(out, line) end
  end
  return out
end

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  ok_count, bad_count, index = 0, 0, 0
  method = os.getenv("BENCH_METHOD") or "GET"
  ok_status = tonumber(os.getenv("BENCH_OK") or "200")
  paths, bodies = lines("BENCH_PATHS"), lines("BENCH_BODIES")
  for _, h in ipairs(lines("BENCH_HEADERS")) do
    local name, value = h:match("^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
  -- Threads start at different offsets so they do not send the same body at the same time.
  index = (id or 1) * 7919
end

function request()
  index = index + 1
  local path = wrk.path
  if #paths > 0 then path = paths[(index % #paths) + 1] end
  local body = nil
  if #bodies > 0 then body = bodies[(index % #bodies) + 1] end
  return wrk.format(method, path, nil, body)
end

function response(status, headers, body)
  if status == ok_status then ok_count = ok_count + 1 else bad_count = bad_count + 1 end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("ok_count")
    bad = bad + t:get("bad_count")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"ok": %d, "bad": %d, "requests": %d, "duration_us": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    ok, bad, summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
