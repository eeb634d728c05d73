-- The breaker state machine, run atomically inside Redis: the one mirror of src/breaker/ (the
-- store-conformance suite checks that they agree, step for step). Every call takes one plain
-- path: read the key, decode and validate it (a corrupt value is repaired), apply the op, encode,
-- write, reply. One key per call, so it runs unchanged on Redis Cluster. `now` comes from the
-- caller: Redis's clock is never read.
--
-- KEYS[1]  the breaker's key
-- ARGV     op, now, ttlSeconds, settings, nonce, op arguments...
--          settings = 'failureThreshold,timeoutSeconds,halfOpenMaxCalls,halfOpenSuccessThreshold,
--                      backoffMultiplier,maxTimeoutSeconds' and, for a rate mode,
--                      ',count|time,windowSize,slowCallDurationMs,minimumNumberOfCalls,
--                      failureRateThreshold,slowCallRateThreshold,minFailingWorkers'
--          nonce: the incarnation given to a state this call writes fresh
--          acquire: leaseMs
--          record: one or more outcomes, 8 arguments each: epoch, probeId (-1: none), outcome,
--                  incarnation ('': none), leaseExpiresAt (-1: none), durationMs (-1: none),
--                  the worker's key ('': no quorum), now (the outcome's own)
--          command: forceOpen | forceClose | reset;  merge: successes, failures;  load: nothing
--
-- Every reply is one JSON object: "state" (the state after the op, as stored), "repaired" (why a
-- corrupt value was replaced; absent: it was not), and the op's result: acquire → "allowed",
-- "probe", "probeId", "leaseExpiresAt", "retryAfterMs"; record → "results", one per outcome:
-- "counted", "circuit" (the state after it), "lost" (the permit came from a history this key no
-- longer holds) and, when it moved the state, "event", "from" and "to" (the state it led to: its
-- name, epoch, timeoutSeconds, incarnation); acquire and command, when they moved it → "event", "from".
-- Absent keys are null/false in src/store/breaker-script.ts, the one reader of these replies.
--
-- Numbers: every count and instant is an integer from 0 to 2^53 - 1; anything else read back
-- (1e400, which cjson reads as inf, a fraction, a negative) is a corrupt value, repaired. The
-- state is encoded by hand (encode below), not by cjson.encode, which writes 14 significant
-- digits and would round an instant near 2^52.
--
-- Loaded one of two ways (src/store/breaker-script.ts): as a Redis Functions library (Redis 7+),
-- where everything down to `main` runs once per load and `main` is the registered function, or as
-- an EVAL script (Redis 6, or an ACL that denies FUNCTION), the same text ending in
-- `return main(KEYS, ARGV)`, where all of it runs on every call.

-- One call's inputs and state: set by main at the start of every call, read by the definitions below.
local key, A, op, now, ttl, nonce
local cfg, s, repaired, missing, dirty, stored
-- Library members: cjson and math are not there while a Functions library loads, so main takes them on every call.
local NULL, floor

-- Memos that live as long as a loaded library (EVAL starts them empty on every call): a call
-- that finds what an earlier call left skips a parse. Each holds at most MEMO_LIMIT entries and
-- starts over when full.
local MEMO_LIMIT = 256
local settingsMemo, settingsMemoSize = {}, 0

-- The settings (ARGV[4]), parsed once per distinct settings string; read-only. The memo: a
-- time-window record costs 50 us of Redis time with it, 61 us without (INFO commandstats, FCALL,
-- medians of 4 runs, 2026-12-02; bench row redis-rate).
local function config()
  if cfg then return cfg end
  cfg = settingsMemo[A[4]]
  if cfg then return cfg end
  local t, timeout, maxCalls, successThreshold, mult, maxTimeout, rest =
    string.match(A[4], '^([^,]+),([^,]+),([^,]+),([^,]+),([^,]+),([^,]+)(.*)$')
  cfg = { threshold = tonumber(t), timeout = tonumber(timeout), maxCalls = tonumber(maxCalls),
    successThreshold = tonumber(successThreshold), mult = tonumber(mult), maxTimeout = tonumber(maxTimeout) }
  if rest ~= '' then
    -- A rate mode ('count' or 'time') and its window settings.
    local mode, size, slowMs, minCalls, failRate, slowRate, minWorkers =
      string.match(rest, '^,(%a+),([^,]+),([^,]+),([^,]+),([^,]+),([^,]+),([^,]+)$')
    cfg.mode = mode
    cfg.size, cfg.slowMs, cfg.minCalls = tonumber(size), tonumber(slowMs), tonumber(minCalls)
    cfg.failRate, cfg.slowRate, cfg.minWorkers = tonumber(failRate), tonumber(slowRate), tonumber(minWorkers)
  end
  if settingsMemoSize >= MEMO_LIMIT then settingsMemo, settingsMemoSize = {}, 0 end
  settingsMemo[A[4]] = cfg
  settingsMemoSize = settingsMemoSize + 1
  return cfg
end

local function emptyHalfOpen()
  return { attempts = 0, successes = 0, nextProbeId = 0, leases = {} }
end

local function initial(stats)
  return { v = 1, state = 'closed', forced = false, epoch = 0, failureCount = 0,
    consecutiveSuccesses = 0, timeoutSeconds = config().timeout, openedAt = NULL,
    lastFailureTime = NULL, lastStateChange = NULL, halfOpen = emptyHalfOpen(),
    stats = stats or { totalFailures = 0, totalSuccesses = 0, circuitOpens = 0, successfulRecoveries = 0,
      failedRecoveries = 0, timeInOpenStateMs = 0, lastOpenTime = NULL } }
end

-- An integer from 0 to 2^53 - 1 (inf and nan fail a comparison).
local function isCount(x)
  return type(x) == 'number' and x >= 0 and x <= 9007199254740991 and x == floor(x)
end

local STAT_COUNTS = { 'totalSuccesses', 'totalFailures', 'circuitOpens', 'successfulRecoveries', 'failedRecoveries', 'timeInOpenStateMs' }

-- The statistics, each unreadable one replaced (a count by 0, lastOpenTime by null), and the
-- first bad one's reason ('' when none).
local function salvageStats(st)
  local out = { totalFailures = 0, totalSuccesses = 0, circuitOpens = 0, successfulRecoveries = 0,
    failedRecoveries = 0, timeInOpenStateMs = 0, lastOpenTime = NULL }
  if type(st) ~= 'table' then return out, 'stats: malformed' end
  local why = ''
  for _, f in ipairs(STAT_COUNTS) do
    if isCount(st[f]) then out[f] = st[f] elseif why == '' then why = 'stats.' .. f .. ': not a count' end
  end
  local t = st.lastOpenTime
  if t == NULL or isCount(t) then out.lastOpenTime = t elseif why == '' then why = 'stats.lastOpenTime: not an instant' end
  return out, why
end

-- A rate mode's window (src/breaker/window.ts): nil when valid, else the reason.
local function invalidWindow(w)
  if type(w) ~= 'table' or type(w.workers) ~= 'table' then return 'window: malformed' end
  local n = 0
  for k, v in pairs(w.workers) do
    if type(k) ~= 'string' or #k ~= 8 or string.find(k, '[^0-9a-f]') or not isCount(v) then return 'window.workers: malformed' end
    n = n + 1
  end
  if n > 16 then return 'window.workers: too many' end
  if w.kind == 'count' then
    if not isCount(w.size) or w.size < 1 or w.size > 1000 or not isCount(w.seq) or type(w.ring) ~= 'string'
        or #w.ring > 1000 or string.find(w.ring, '[^ofsx]') then
      return 'window: malformed'
    end
    return nil
  end
  if w.kind ~= 'time' or not isCount(w.size) or w.size < 1 or w.size > 3600 or not isCount(w.head) or type(w.buckets) ~= 'table' then
    return 'window: malformed'
  end
  local nb = 0
  for _ in pairs(w.buckets) do nb = nb + 1 end
  if nb < 1 or nb > 20 or nb ~= #w.buckets then return 'window.buckets: malformed' end
  for _, b in ipairs(w.buckets) do
    if type(b) ~= 'table' or #b ~= 3 or not isCount(b[1]) or not isCount(b[2]) or not isCount(b[3]) then return 'window.buckets: malformed' end
  end
  return nil
end

-- Returns nil when valid, else the reason.
local function invalid(s)
  if type(s) ~= 'table' then return 'not an object' end
  if s.v ~= 1 then return 'v: unknown version' end
  local state = s.state
  if state ~= 'closed' and state ~= 'open' and state ~= 'half-open' then return 'state: unknown state' end
  if type(s.forced) ~= 'boolean' then return 'forced: not a boolean' end
  if not isCount(s.epoch) then return 'epoch: not a count' end
  local inc = s.incarnation
  if inc ~= nil and not (type(inc) == 'string' and #inc <= 64 and string.match(inc, '^[%w_%-]+$')) then
    return 'incarnation: malformed'
  end
  if not isCount(s.failureCount) then return 'failureCount: not a count' end
  if not isCount(s.consecutiveSuccesses) then return 'consecutiveSuccesses: not a count' end
  if not isCount(s.timeoutSeconds) or s.timeoutSeconds < 1 then return 'timeoutSeconds: not a positive integer' end
  local t = s.lastFailureTime
  if t ~= NULL and not isCount(t) then return 'lastFailureTime: not an instant' end
  t = s.lastStateChange
  if t ~= NULL and not isCount(t) then return 'lastStateChange: not an instant' end
  local h = s.halfOpen
  if type(h) ~= 'table' or not isCount(h.attempts) or not isCount(h.successes) or not isCount(h.nextProbeId)
      or type(h.leases) ~= 'table' then
    return 'halfOpen: malformed'
  end
  for id, exp in pairs(h.leases) do
    if type(id) ~= 'string' or not string.match(id, '^%d+$') or not isCount(exp) then return 'halfOpen.leases: malformed' end
  end
  -- Each circuit state holds only what it can (src/breaker/state.ts, one schema per state):
  -- an opening time only while open, probes only while half-open, forced only while open, a
  -- window only while closed.
  if state == 'open' then
    if not isCount(s.openedAt) then return 'openedAt: an open circuit needs its opening time' end
  elseif s.openedAt ~= NULL then
    return 'openedAt: only an open circuit has one'
  elseif s.forced then
    return 'forced: only an open circuit is forced'
  end
  if state ~= 'half-open' and (h.attempts ~= 0 or h.successes ~= 0 or h.nextProbeId ~= 0 or next(h.leases) ~= nil) then
    return 'halfOpen: probes outside the half-open state'
  end
  if s.window ~= nil then
    if state ~= 'closed' then return 'window: only a closed circuit has one' end
    return invalidWindow(s.window)
  end
  return nil
end

-- key -> { the value stored at it, the state decoded from it }: the state the last call on this
-- key left, so that the next call skips cjson.decode and the validation: a one-outcome record
-- costs 41-43 us of Redis time with it and 65-69 us when it decodes anyway (INFO commandstats,
-- FCALL, this project's machine, 2026-12-02; bench rows redis and redis-rate).
local decoded, decodedSize = {}, 0

local function remember(value, state)
  if decoded[key] == nil then
    if decodedSize >= MEMO_LIMIT then decoded, decodedSize = {}, 0 end
    decodedSize = decodedSize + 1
  end
  decoded[key] = { value, state }
end

-- Loads the state. A corrupt or wrong-type value is replaced by a fresh state that keeps every
-- statistic it can read; a value whose only fault is a statistic keeps its state, with that
-- statistic replaced. Returns state, repairReason ('' when none), missing (no value at the key).
local function load()
  local got = redis.pcall('GET', key)
  if type(got) == 'table' and got.err then
    redis.call('DEL', key)
    return initial(nil), 'wrong Redis type (' .. got.err .. ')', false
  end
  if not got then return initial(nil), '', true end
  stored = got
  -- The state an earlier call decoded from, or wrote as, this very value: validated then, and
  -- taken out of the memo while this call changes it (a call that fails leaves no entry behind).
  local hit = decoded[key]
  if hit then
    decoded[key] = nil
    decodedSize = decodedSize - 1
    if hit[1] == got then return hit[2], '', false end
  end
  -- cjson also reads a number with a leading zero ("epoch":003 as 3), which JSON.parse refuses:
  -- such a value is valid here and corrupt to the TypeScript decoder, whose GET then hands the
  -- decision to this script; the next write stores it as JSON. Refusing it here too would cost a
  -- scan of the value in every call (1.5 us of a record's ~17, measured 2026-12-01).
  local ok, s = pcall(cjson.decode, got)
  if not ok then return initial(nil), 'not JSON', false end
  local why = invalid(s)
  local stats, statsWhy = salvageStats(type(s) == 'table' and s.stats or nil)
  if why then return initial(stats), why, false end
  s.stats = stats
  return s, statsWhy, false
end

local function num(x)
  if x == NULL then return 'null' end
  if x == floor(x) and x > -9007199254740992 and x < 9007199254740992 then return string.format('%d', x) end
  return string.format('%.17g', x)
end

local function byNumber(a, b) return tonumber(a) < tonumber(b) end

-- A key no decoded JSON can hold (cjson's keys are strings): a window's cached encoding, never
-- read from a stored value (see encodeWindow).
local TAIL = {}

-- A window as JSON: ',"window":{...}' (workers sorted), '' for none.
local function encodeWindow(w)
  if w == nil then return '' end
  local workers = '{}'
  if next(w.workers) ~= nil then
    local keys = {}
    for k in pairs(w.workers) do keys[#keys + 1] = k end
    table.sort(keys)
    for i, k in ipairs(keys) do keys[i] = '"' .. k .. '":' .. num(w.workers[k]) end
    workers = '{' .. table.concat(keys, ',') .. '}'
  end
  if w.kind == 'count' then
    return string.format(',"window":{"kind":"count","size":%d,"seq":%d,"workers":%s,"ring":"%s"}', w.size, w.seq, workers, w.ring)
  end
  -- The buckets after the first as JSON (w[TAIL]), kept by timeRecord while only the first changes:
  -- formatting all 20 buckets on every call was most of a time-window record's cost over a
  -- consecutive one. Redis time of a record with a full window ÷ a consecutive record (INFO
  -- commandstats, FCALL, median of 6 pairs, 2026-12-02): 2.26 formatting every bucket, 1.20 with
  -- the tail kept (bench row redis-rate).
  local tail = w[TAIL]
  if tail == nil then
    local parts = {}
    for i = 2, #w.buckets do
      local b = w.buckets[i]
      parts[i - 1] = string.format(',[%d,%d,%d]', b[1], b[2], b[3])
    end
    tail = table.concat(parts)
    w[TAIL] = tail
  end
  local b = w.buckets[1]
  return string.format(',"window":{"kind":"time","size":%d,"head":%d,"workers":%s,"buckets":[[%d,%d,%d]%s]}', w.size, w.head, workers, b[1], b[2], b[3], tail)
end

-- The state as JSON, its keys in BreakerState's order (for a reader's eyes: nothing depends on the
-- order). One string.format for the whole value: 3.3 us per encode against 4.4 us with each number
-- formatted on its own (in-script profile, 2026-12-01; it is Redis time, so every redis row).
local STATE_JSON = '{"v":1,"state":"%s","forced":%s,"epoch":%d%s,"failureCount":%d,"consecutiveSuccesses":%d,'
  .. '"lastFailureTime":%s,"stats":{"totalSuccesses":%d,"totalFailures":%d,"circuitOpens":%d,'
  .. '"successfulRecoveries":%d,"failedRecoveries":%d,"timeInOpenStateMs":%d,"lastOpenTime":%s},'
  .. '"timeoutSeconds":%d,"openedAt":%s,"lastStateChange":%s,'
  .. '"halfOpen":{"attempts":%d,"successes":%d,"nextProbeId":%d,"leases":{%s}}%s}'

local function encode(s)
  local h, st = s.halfOpen, s.stats
  local leases = ''
  if next(h.leases) ~= nil then
    local ids = {}
    for id in pairs(h.leases) do ids[#ids + 1] = id end
    table.sort(ids, byNumber)
    for i, id in ipairs(ids) do ids[i] = '"' .. id .. '":' .. num(h.leases[id]) end
    leases = table.concat(ids, ',')
  end
  local inc = ''
  if s.incarnation then inc = ',"incarnation":"' .. s.incarnation .. '"' end
  return string.format(STATE_JSON, s.state, tostring(s.forced), s.epoch, inc, s.failureCount, s.consecutiveSuccesses,
    num(s.lastFailureTime), st.totalSuccesses, st.totalFailures, st.circuitOpens,
    st.successfulRecoveries, st.failedRecoveries, st.timeInOpenStateMs, num(st.lastOpenTime),
    s.timeoutSeconds, num(s.openedAt), num(s.lastStateChange),
    h.attempts, h.successes, h.nextProbeId, leases, encodeWindow(s.window))
end

-- Writes the state; a state written fresh gets its incarnation here. The TTL never ends an open
-- period: an open key lives for what is left of it plus ttl, and a forced-open key has no TTL
-- (it stays open until an operator releases it; rejections never write to refresh it).
local function persist(s)
  if s.incarnation == nil then s.incarnation = nonce end
  local json = encode(s)
  if s.state == 'open' and s.forced then
    redis.call('SET', key, json)
  elseif s.state == 'open' then
    local left = s.openedAt + s.timeoutSeconds * 1000 - now
    redis.call('SET', key, json, 'EX', ttl + math.max(0, math.ceil(left / 1000)))
  else
    redis.call('SET', key, json, 'EX', ttl)
  end
  remember(json, s)
  return json
end

local function moveTo(s, to)
  local leavingOpen = s.state == 'open' and to ~= 'open'
  local enteringOpen = s.state ~= 'open' and to == 'open'
  if leavingOpen and s.openedAt ~= NULL then
    s.stats.timeInOpenStateMs = s.stats.timeInOpenStateMs + math.max(0, now - s.openedAt)
  end
  if enteringOpen then
    s.stats.circuitOpens = s.stats.circuitOpens + 1
    s.stats.lastOpenTime = now
    s.openedAt = now
  elseif to ~= 'open' then
    s.openedAt = NULL
  end
  s.state = to
  s.forced = false
  s.epoch = s.epoch + 1
  s.lastStateChange = now
  s.halfOpen = emptyHalfOpen()
  s.window = nil
end

local function expireLeases(s)
  if s.state ~= 'half-open' then return false end
  local expired = 0
  for id, exp in pairs(s.halfOpen.leases) do
    if exp <= now then
      s.halfOpen.leases[id] = nil
      expired = expired + 1
    end
  end
  s.halfOpen.attempts = s.halfOpen.attempts - expired
  return expired > 0
end


-- The reply (see the top of this file): the state's JSON, then the op's fields (',"k":v...').
local function reply(json, fields)
  local r = '{"state":' .. json .. fields
  if repaired ~= '' then r = r .. ',"repaired":' .. cjson.encode(repaired) end
  return r .. '}'
end

local function moved(event, from)
  if event == '' then return '' end
  return ',"event":"' .. event .. '","from":"' .. from .. '"'
end

-- The state to reply with: written when the op (or a repair) changed it.
local function settle(changed)
  if changed or dirty then return persist(s) end
  if stored then remember(stored, s) end
  return encode(s)
end

local function acquire()
  local leaseMs = tonumber(A[6])
  if not leaseMs or not (leaseMs >= 0 and leaseMs <= 4503599627370496 and leaseMs == floor(leaseMs)) then
    return redis.error_reply('ERR invalid leaseMs: ' .. tostring(A[6]))
  end
  local event, from = '', ''
  if s.state == 'closed' then
    return reply(settle(false), ',"allowed":true,"probe":false')
  end
  if s.state == 'open' then
    local untilMs = nil
    if not s.forced and s.openedAt ~= NULL then untilMs = s.openedAt + s.timeoutSeconds * 1000 end
    if not untilMs then return reply(settle(false), ',"allowed":false') end
    if now < untilMs then return reply(settle(false), ',"allowed":false,"retryAfterMs":' .. num(untilMs - now)) end
    moveTo(s, 'half-open')
    event, from = 'half-opened', 'open'
  end
  local changed = expireLeases(s) or event ~= ''
  if s.halfOpen.attempts >= config().maxCalls then
    local earliest = nil
    for _, exp in pairs(s.halfOpen.leases) do
      if not earliest or exp < earliest then earliest = exp end
    end
    local retry = 1000
    if earliest then retry = math.max(1, earliest - now) end
    return reply(settle(changed), ',"allowed":false,"retryAfterMs":' .. num(retry) .. moved(event, from))
  end
  local probeId = s.halfOpen.nextProbeId
  local leaseExpiresAt = now + leaseMs
  s.halfOpen.attempts = s.halfOpen.attempts + 1
  s.halfOpen.nextProbeId = probeId + 1
  s.halfOpen.leases[tostring(probeId)] = leaseExpiresAt
  return reply(settle(true), ',"allowed":true,"probe":true,"probeId":' .. num(probeId) .. ',"leaseExpiresAt":' .. num(leaseExpiresAt) .. moved(event, from))
end

-- The rate modes' rules (src/breaker/window.ts, count-window-rule.ts, time-window-rule.ts).
local function ratesOpen(calls, failures, slow, failingWorkers)
  local c = config()
  return calls >= c.minCalls and (failures * 100 >= c.failRate * calls or slow * 100 >= c.slowRate * calls)
    and (c.minWorkers <= 1 or failingWorkers >= c.minWorkers)
end

local function noteWorker(workers, wkey, at, oldest, limit)
  local out, n = {}, 0
  for k, v in pairs(workers) do
    if v > oldest then
      out[k] = v
      n = n + 1
    end
  end
  if out[wkey] then
    if at > out[wkey] then out[wkey] = at end
  else
    out[wkey] = at
    n = n + 1
  end
  while n > limit do
    local victim = nil
    for k, v in pairs(out) do
      if victim == nil or v < out[victim] or (v == out[victim] and k < victim) then victim = k end
    end
    out[victim] = nil
    n = n - 1
  end
  return out
end

local function workersAfter(workers, oldest)
  local n = 0
  for _, v in pairs(workers) do if v > oldest then n = n + 1 end end
  return n
end

local function countRecord(s, outcome, slow, wkey)
  local c = config()
  local w = s.window
  if type(w) ~= 'table' or w.kind ~= 'count' or w.size ~= c.size then w = { kind = 'count', size = c.size, seq = 0, workers = {}, ring = '' } end
  local bad = outcome == 'failure' or slow
  local ch
  if outcome == 'failure' then
    if slow then ch = 'x' else ch = 'f' end
  elseif slow then ch = 's' else ch = 'o' end
  local ring = w.ring .. ch
  if #ring > w.size then ring = string.sub(ring, #ring - w.size + 1) end
  local seq = w.seq + 1
  local workers = w.workers
  if bad and c.minWorkers > 1 then workers = noteWorker(workers, wkey, seq, seq - w.size, c.minWorkers) end
  s.window = { kind = 'count', size = w.size, seq = seq, workers = workers, ring = ring }
  if not bad then return false end
  local _, failures = string.gsub(ring, '[fx]', '')
  local _, slowCalls = string.gsub(ring, '[sx]', '')
  return ratesOpen(#ring, failures, slowCalls, workersAfter(workers, seq - w.size))
end

local function timeRecord(s, outcome, slow, wkey)
  local c = config()
  local n = math.min(c.size, 20)
  local at = floor(now / (c.size * 1000 / n))
  local w = s.window
  if type(w) ~= 'table' or w.kind ~= 'time' or w.size ~= c.size then
    w = { kind = 'time', size = c.size, head = at, workers = {}, buckets = { { 0, 0, 0 } } }
  end
  if at <= w.head - n then
    s.window = w
    return false
  end
  -- The window is this call's own decoded copy: changed in place.
  local head = w.head
  local buckets = w.buckets
  -- The JSON of buckets[2..] (see encodeWindow) holds while this outcome lands in the head bucket.
  local tail = nil
  if at == head then tail = w[TAIL] end
  if at > head then
    buckets = {}
    for i = 1, math.min(at - head, n) do buckets[i] = { 0, 0, 0 } end
    for _, b in ipairs(w.buckets) do
      if #buckets >= n then break end
      buckets[#buckets + 1] = b
    end
    while #buckets > 1 do
      local last = buckets[#buckets]
      if last[1] ~= 0 or last[2] ~= 0 or last[3] ~= 0 then break end
      buckets[#buckets] = nil
    end
    head = at
  end
  local i = head - at + 1
  while #buckets < i do buckets[#buckets + 1] = { 0, 0, 0 } end
  local b = buckets[i]
  b[1] = b[1] + 1
  if outcome == 'failure' then b[2] = b[2] + 1 end
  if slow then b[3] = b[3] + 1 end
  local bad = outcome == 'failure' or slow
  local workers = w.workers
  if bad and c.minWorkers > 1 then workers = noteWorker(workers, wkey, at, head - n, c.minWorkers) end
  s.window = { kind = 'time', size = w.size, head = head, workers = workers, buckets = buckets, [TAIL] = tail }
  if not bad then return false end
  local calls, failures, slowCalls = 0, 0, 0
  for _, x in ipairs(buckets) do
    calls = calls + x[1]
    failures = failures + x[2]
    slowCalls = slowCalls + x[3]
  end
  return ratesOpen(calls, failures, slowCalls, workersAfter(workers, head - n))
end

-- One outcome (its 8 arguments from ARGV[base]): applied to s; returns its result's JSON.
local function recordOne(base)
  local epoch = tonumber(A[base])
  local probeId = tonumber(A[base + 1])
  local outcome = A[base + 2]
  local pinc = A[base + 3]
  local leaseAt = tonumber(A[base + 4])
  now = tonumber(A[base + 7])
  if not now or not (now >= 0 and now <= 4503599627370496 and now == floor(now)) then
    return nil, 'ERR invalid now: ' .. tostring(A[base + 7])
  end
  -- A permit from a history this key no longer holds: the key is gone, or an older value of the
  -- same incarnation was put back (the permit's epoch is ahead). The state starts a new
  -- incarnation, so that no other permit of the lost history can match it later.
  local lost = ''
  if pinc ~= '' and missing then
    lost = 'key missing'
  elseif pinc ~= '' and pinc == s.incarnation and epoch > s.epoch then
    lost = 'older value restored'
    s.incarnation = nonce
  end
  if outcome == 'success' then
    s.stats.totalSuccesses = s.stats.totalSuccesses + 1
  elseif outcome == 'failure' then
    s.stats.totalFailures = s.stats.totalFailures + 1
  end
  expireLeases(s)
  -- The result: counted, the circuit state after it and, after a transition, the state it led to.
  local function result(counted, event, from)
    local r = '{"counted":' .. tostring(counted) .. ',"circuit":"' .. s.state .. '"'
    if event ~= '' then
      r = r .. ',"event":"' .. event .. '","from":"' .. from .. '","to":{"state":"' .. s.state .. '","epoch":' .. num(s.epoch)
        .. ',"timeoutSeconds":' .. num(s.timeoutSeconds)
      if s.incarnation then r = r .. ',"incarnation":"' .. s.incarnation .. '"' end
      r = r .. '}'
    end
    if lost ~= '' then r = r .. ',"lost":"' .. lost .. '"' end
    return r .. '}'
  end
  if epoch ~= s.epoch or (pinc ~= '' and pinc ~= s.incarnation) then return result(false, '') end
  if s.state == 'closed' then
    if outcome == 'ignored' then return result(false, '') end
    if outcome == 'success' then
      s.failureCount = 0
      s.consecutiveSuccesses = s.consecutiveSuccesses + 1
    else
      s.failureCount = s.failureCount + 1
      s.consecutiveSuccesses = 0
      s.lastFailureTime = now
    end
    -- When to open: the mode's rule (src/breaker/opening-rule.ts).
    local open
    local mode = config().mode
    if mode == 'count' or mode == 'time' then
      local slow = (tonumber(A[base + 5]) or -1) >= config().slowMs
      if mode == 'count' then open = countRecord(s, outcome, slow, A[base + 6]) else open = timeRecord(s, outcome, slow, A[base + 6]) end
    else
      s.window = nil
      open = outcome == 'failure' and s.failureCount >= config().threshold
    end
    if not open then return result(true, '') end
    moveTo(s, 'open')
    return result(true, 'opened', 'closed')
  end
  if s.state ~= 'half-open' or probeId < 0 then return result(false, '') end
  local id = tostring(probeId)
  -- The lease must be this permit's own: after a restore, a new probe can hold the same id.
  if not s.halfOpen.leases[id] or (leaseAt >= 0 and s.halfOpen.leases[id] ~= leaseAt) then return result(false, '') end
  s.halfOpen.leases[id] = nil
  if outcome == 'ignored' then
    s.halfOpen.attempts = s.halfOpen.attempts - 1
    return result(false, '')
  end
  if outcome == 'success' then
    s.halfOpen.successes = s.halfOpen.successes + 1
    s.consecutiveSuccesses = s.consecutiveSuccesses + 1
    if s.halfOpen.successes < config().successThreshold then return result(true, '') end
    moveTo(s, 'closed')
    s.failureCount = 0
    s.timeoutSeconds = config().timeout
    s.stats.successfulRecoveries = s.stats.successfulRecoveries + 1
    return result(true, 'recovered', 'half-open')
  end
  s.failureCount = s.failureCount + 1
  s.consecutiveSuccesses = 0
  s.lastFailureTime = now
  s.timeoutSeconds = math.min(math.floor(s.timeoutSeconds * config().mult), config().maxTimeout)
  s.stats.failedRecoveries = s.stats.failedRecoveries + 1
  moveTo(s, 'open')
  return result(true, 'reopened', 'half-open')
end

-- Outcomes in the order given, each as if it were its own call (a worker sends the outcomes that
-- finished while its previous record was in flight together); the state written once.
local function record()
  local results = {}
  for base = 6, #A - 7, 8 do
    local r, err = recordOne(base)
    if not r then return redis.error_reply(err) end
    results[#results + 1] = r
    missing = false
  end
  return reply(persist(s), ',"results":[' .. table.concat(results, ',') .. ']')
end

local function command()
  local cmd = A[6]
  local from = s.state
  local event
  if cmd == 'forceOpen' then
    if s.state == 'open' then
      s.epoch = s.epoch + 1
      s.lastStateChange = now
    else
      moveTo(s, 'open')
    end
    s.forced = true
    event = 'forced-open'
  elseif cmd == 'forceClose' or cmd == 'reset' then
    local lastFailure = s.lastFailureTime
    moveTo(s, 'closed')
    s.failureCount = 0
    s.consecutiveSuccesses = 0
    s.timeoutSeconds = config().timeout
    if cmd == 'reset' then
      s.lastFailureTime = NULL
      event = 'reset'
    else
      s.lastFailureTime = lastFailure
      event = 'forced-closed'
    end
  else
    return redis.error_reply('unknown breaker command: ' .. tostring(cmd))
  end
  return reply(persist(s), moved(event, from))
end

local function merge()
  -- totals counted by an in-process fallback while Redis was unreachable
  s.stats.totalSuccesses = s.stats.totalSuccesses + tonumber(A[6])
  s.stats.totalFailures = s.stats.totalFailures + tonumber(A[7])
  return reply(persist(s), '')
end

-- The registered function (and the EVAL script's body): one call.
local function main(keys, args)
  key, A, NULL, floor = keys[1], args, cjson.null, math.floor
  op, now, ttl, nonce = A[1], tonumber(A[2]), tonumber(A[3]), A[5]
  cfg, stored = nil, nil
  -- The caller checks `now` (src/store/arguments.ts); this only keeps anything else from ever being written.
  if not now or not (now >= 0 and now <= 4503599627370496 and now == floor(now)) then
    return redis.error_reply('ERR invalid now: ' .. tostring(A[2]))
  end
  s, repaired, missing = load()
  dirty = repaired ~= ''
  if op == 'acquire' then return acquire() end
  if op == 'record' then return record() end
  if op == 'command' then return command() end
  if op == 'merge' then return merge() end
  if op == 'load' then return reply(settle(false), '') end
  return redis.error_reply('unknown breaker op: ' .. tostring(op))
end
