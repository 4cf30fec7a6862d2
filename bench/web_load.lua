-- wrk script for the review screen's figures (bench/web_load.sh):
--   wrk -c20 -s bench/web_load.lua URL -- MODE COOKIE MAX_FILE MAX_FINDING ROOT
-- MODE "list": the findings list, first pages and deep pages (keyset from a
-- random id), unfiltered and filtered by kind, root or state; "file": a
-- random file's page; "dashboard": the overview. Prints p50/p90/p95/p99 and
-- counts every answer that is not 200 (a redirect to the login page would
-- otherwise pass for a fast page).
local mode, cookie, max_file, max_finding, root
local not_ok = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  mode, cookie = args[1], args[2]
  max_file, max_finding, root = tonumber(args[3]), tonumber(args[4]), args[5]
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local path
  if mode == "list" then
    local r = math.random(5)
    if r == 1 then
      path = "/findings"
    elseif r == 2 then
      path = "/findings?kind=my_number&after=" .. math.random(max_finding)
    elseif r == 3 then
      path = "/findings?root=" .. root .. "&after=" .. math.random(max_finding)
    elseif r == 4 then
      path = "/findings?status=open&confidence=high&after=" .. math.random(max_finding)
    else
      path = "/findings?after=" .. math.random(max_finding)
    end
  elseif mode == "file" then
    path = "/file/" .. math.random(max_file)
  else
    path = "/"
  end
  return wrk.format("GET", path, { ["Cookie"] = "mamori_session=" .. cookie })
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

-- done() runs in wrk's main interpreter: the threads' counters are fetched.
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("not_ok") or 0)
  end
  io.write(string.format("  %d requests in %.1f s (%.0f/s), %d not 200, %d socket errors\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({ 50, 90, 95, 99 }) do
    io.write(string.format("  p%d %.1f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("  max %.1f ms\n", latency.max / 1000))
end
