-- wrk script for bench/serve_bench.py: GET the paths of a file in turn, then print the
-- run's figures as one JSON line.
--
--   wrk -t2 -c16 -d30s -s bench/wrk_urls.lua http://127.0.0.1:8001 -- urls.txt 2
--
-- Arguments after "--": the file (one path with its query string per line), the
-- number of threads, and optionally "gzip" to send `Accept-Encoding: gzip` as browsers do. Each thread starts at its own share of the list (thread 0 at the
-- top, thread 1 half-way down with two threads) and goes round it from there, so a run
-- shorter than one pass asks for every path at most once. The requests are made once in
-- init(); no response() is defined, so wrk never hands the bodies to Lua.

local requests = {}
local counter = 0
local created = 0

function setup(thread)
  thread:set("id", created)
  created = created + 1
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  local headers = nil
  if args[3] == "gzip" then
    headers = {["Accept-Encoding"] = "gzip"}
  end
  for line in f:lines() do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("GET", line, headers)
    end
  end
  f:close()
  assert(#requests > 0, "no paths in " .. args[1])
  local threads = tonumber(args[2]) or 1
  counter = math.floor((id or 0) * #requests / threads)
end

function request()
  counter = counter + 1
  if counter > #requests then
    counter = 1
  end
  return requests[counter]
end

function done(summary, latency, requests_per_thread)
  local percentiles = {}
  for _, p in ipairs({50, 75, 90, 95, 99, 99.9}) do
    percentiles[#percentiles + 1] = string.format('"%g": %d', p, latency:percentile(p))
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"duration_us": %d, "requests": %d, "bytes": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "min_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "stdev_us": %.1f, "percentiles_us": {%s}}\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency.min, latency.max, latency.mean, latency.stdev,
    table.concat(percentiles, ", ")))
end
