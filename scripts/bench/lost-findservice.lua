-- wrk script for scripts/bench/lost.sh: LoST findService (RFC 5222) requests, one per point of
-- a file, in rotation, POSTed as application/lost+xml over keep-alive connections.
--
--   LOST_BENCH_POINTS=points.tsv wrk -t2 -c32 -d15s -s scripts/bench/lost-findservice.lua http://127.0.0.1:PORT/
--
-- points.tsv: one point a line, "LATITUDE<tab or space>LONGITUDE" (WGS 84 degrees).
-- Each request is a geodetic-2d gml:Point (latitude first, EPSG::4326) for urn:service:sos, the
-- same form as the Kamailio client's (tests/lost/kamailio/kamailio-findService-request.xml).
-- A response counts as good if it is HTTP 200 and has a <uri> (a mapping); the first few bad
-- ones are printed on stderr. done() prints one line on stdout:
--   wrk_result requests=N duration_s=S rps=R p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. mean_ms=..
--              responses=N good=N failures=N errors_connect=.. errors_read=.. errors_write=..
--              errors_status=.. errors_timeout=..

local points_file = os.getenv("LOST_BENCH_POINTS")
local max_shown = tonumber(os.getenv("LOST_BENCH_SHOW_FAILURES") or "5")

local template = '<?xml version="1.0" encoding="UTF-8"?>' ..
  '<findService xmlns="urn:ietf:params:xml:ns:lost1" serviceBoundary="reference" recursive="true">' ..
  '<location id="p%d" profile="geodetic-2d">' ..
  '<gml:Point xmlns:gml="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::4326">' ..
  '<gml:pos>%s %s</gml:pos></gml:Point></location>' ..
  '<service>urn:service:sos</service></findService>'

-- Main state only: the threads, so that done() can add up their counters.
local threads = {}

function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

-- Per-thread state. Globals (not locals) where done() reads them with thread:get().
local reqs = {}
local n = 0
local next_i = 0
responses = 0
good = 0
failures = 0
local shown = 0

function init(args)
  if not points_file then error("LOST_BENCH_POINTS is not set (the file of points)") end
  local f = io.open(points_file, "r")
  if not f then error("cannot read " .. points_file) end
  local headers = { ["Content-Type"] = "application/lost+xml" }
  for line in f:lines() do
    local lat, lon = line:match("^%s*(%S+)%s+(%S+)%s*$")
    if lat then
      n = n + 1
      reqs[n] = wrk.format("POST", "/", headers, string.format(template, n, lat, lon))
    end
  end
  f:close()
  if n == 0 then error("no points in " .. points_file) end
  -- Threads start at different places of the rotation.
  next_i = ((thread_no or 0) * math.floor(n / 2 + 1)) % n
end

function request()
  next_i = next_i % n + 1
  return reqs[next_i]
end

function response(status, headers, body)
  responses = responses + 1
  if status == 200 and body and body:find("<uri>", 1, true) then
    good = good + 1
    return
  end
  failures = failures + 1
  if shown < max_shown then
    shown = shown + 1
    local snippet = (body or ""):sub(1, 400):gsub("%s+", " ")
    io.stderr:write(string.format("lost-findservice: bad response (HTTP %d): %s\n", status, snippet))
  end
end

function done(summary, latency, requests)
  local total_responses, total_good, total_failures = 0, 0, 0
  for _, t in ipairs(threads) do
    total_responses = total_responses + (t:get("responses") or 0)
    total_good = total_good + (t:get("good") or 0)
    total_failures = total_failures + (t:get("failures") or 0)
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local ms = function(us) return string.format("%.3f", us / 1000) end
  io.write(string.format(
    "wrk_result requests=%d duration_s=%.2f rps=%.1f p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s mean_ms=%s " ..
    "responses=%d good=%d failures=%d errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)), ms(latency.max), ms(latency.mean),
    total_responses, total_good, total_failures, e.connect, e.read, e.write, e.status, e.timeout))
end
