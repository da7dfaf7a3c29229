-- wrk script for bench/flash_sale.py: replays pre-signed Shopify orders/create deliveries.
--
-- Each wrk thread reads its own slice (@SLICES@/slice-<thread>.txt: delivery id, signature, body,
-- one line each) and sends each delivery once, in order; a thread that has sent its whole slice
-- stops. wrk only reports the time it was told to run for, so the first send and the last answer
-- are timed here (clock_gettime through LuaJIT's FFI, wall clock, comparable with the database's
-- timestamps). done() prints one JSON line: answers by status, what each thread sent, the window.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } flash_timespec;
int clock_gettime(int clk_id, flash_timespec *tp);
]]
local ts = ffi.new("flash_timespec")
local function now_us()
  ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local ids, sigs, bodies = {}, {}, {}
local total, n, checked = 0, 0, false
-- Globals: done() reads them with thread:get.
sent, accepted, rejected, other, ran_out, first_us, last_us = 0, 0, 0, 0, 0, 0, 0

function init(args)
  local f = assert(io.open("@SLICES@/slice-" .. tid .. ".txt", "r"))
  while true do
    local id = f:read("*l")
    if not id then break end
    total = total + 1
    ids[total] = id
    sigs[total] = f:read("*l")
    bodies[total] = f:read("*l")
  end
  f:close()
end

local function delivery(i)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Shopify-Hmac-Sha256"] = sigs[i],
    ["X-Shopify-Webhook-Id"] = ids[i],
    ["X-Shopify-Topic"] = "orders/create",
    ["X-Shopify-Shop-Domain"] = "flash-sale.myshopify.com",
  }, bodies[i])
end

function request()
  -- wrk calls request() once in the first thread before connecting, only to look at the request
  -- (script_verify_request): that call must not use a delivery up.
  if tid == 0 and not checked then
    checked = true
    return delivery(1)
  end
  if n >= total then
    -- Nothing left to send: stop, and hand wrk a request that is no delivery (not counted).
    ran_out = 1
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  n = n + 1
  sent = n
  if first_us == 0 then first_us = now_us() end
  return delivery(n)
end

function response(status, headers, body)
  if body == "ok" then return end -- the /healthz a finished thread was handed
  last_us = now_us()
  if status >= 200 and status < 300 then
    accepted = accepted + 1
  elseif status == 401 then
    rejected = rejected + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, r, o, out, first, last, sent_by = 0, 0, 0, 0, 0, 0, {}
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    r = r + t:get("rejected")
    o = o + t:get("other")
    if t:get("ran_out") == 1 then out = out + 1 end
    local f, l = t:get("first_us"), t:get("last_us")
    if f > 0 and (first == 0 or f < first) then first = f end
    if l > last then last = l end
    table.insert(sent_by, string.format("%d", t:get("sent")))
  end
  io.write(string.format(
    'WRKJSON {"accepted":%d,"rejected":%d,"other":%d,"sent":[%s],"ran_out":%s,"first_us":%.0f,'
    .. '"last_us":%.0f,"errors":%d,"p50_us":%d,"p99_us":%d}\n',
    a, r, o, table.concat(sent_by, ","), out == #threads and "true" or "false", first, last,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
