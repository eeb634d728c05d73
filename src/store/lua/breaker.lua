-- The breaker state machine, run atomically inside Redis. It mirrors src/breaker/transitions.ts
-- step for step (the store-conformance suite checks that they agree). One key per call, so it
-- runs unchanged on Redis Cluster. `now` comes from the caller: Redis's clock is never read.
--
-- KEYS[1]  the breaker's key
-- ARGV     op, now, ttlSeconds, settings, op arguments..., nonce
--          settings = 'failureThreshold,timeoutSeconds,halfOpenMaxCalls,halfOpenSuccessThreshold,
--                      backoffMultiplier,maxTimeoutSeconds'
--          (one argument, built once per config by redis-script.ts, parsed only by the paths that
--          need it: a closed breaker's success never does)
--          nonce (always last): the incarnation given to a state this call writes fresh
--          record's arguments: epoch, probeId (-1: none), outcome, incarnation ('' : none),
--          leaseExpiresAt (-1: none)
--          A rate mode (count-window, time-window) records with op 'recordw' instead: the same
--          arguments, then durationMs (-1: none) and the worker's key ('' : no quorum); its
--          settings add ',count|time,windowSize,slowCallDurationMs,minimumNumberOfCalls,
--          failureRateThreshold,slowCallRateThreshold,minFailingWorkers'. Its window (the last
--          field of the canonical form) mirrors src/breaker/window.ts and *-window-rule.ts.
--
-- Replies (recordw as record): acquire → { repaired, epoch, incarnation } when admitted in the closed state (the hot
-- path), else { repaired, allowed, state, probe, epoch, probeId, retryAfterMs, leaseExpiresAt,
-- event, from, json, incarnation }; record → counted (0 or 1) when the breaker was and stays
-- closed with nothing to repair (the hot path), else { repaired, counted, state } with no
-- transition, else { ..., event, from, json, lost }; lost ('' : no) says the permit came from a
-- history this key no longer holds (deleted, or an older value restored).
--
-- Numbers: every count and instant is an integer from 0 to 2^53 - 1; anything else read back
-- (1e400, which cjson reads as inf, a fraction, a negative) is a corrupt value, repaired.
--
-- The state is written in one canonical form (fixed key order, integers, no spaces; see encode).
-- That lets the hot path (an outcome that keeps a closed breaker closed) rewrite it with one
-- anchored pattern instead of decoding, validating and re-encoding JSON; anything else (another
-- state, a value written by someone else, a corrupt one) takes the full path below, which
-- validates it. (Decisions that write nothing never reach this script: see snapshot-decision.ts.)
local key = KEYS[1]
local op = ARGV[1]
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local nonce = ARGV[#ARGV]
-- The caller checks `now` (redis-store.ts); this only keeps anything else from ever being written.
if not now or not (now >= 0 and now <= 4503599627370496 and now == math.floor(now)) then
  return redis.error_reply('ERR invalid now: ' .. tostring(ARGV[2]))
end

-- The record hot path: an outcome that keeps a closed, not forced breaker closed changes only
-- the fields the canonical form puts first (up to totalFailures). They are captured and
-- rewritten; the rest is copied as is after a plain comparison of its end (a closed state's
-- empty half-open part, which also rejects trailing bytes). The rest's numbers are not
-- re-validated here: only the script writes this key, and every decision's read (the GET in
-- redis-script.ts) matches the whole value, sending anything else to the full path below.
-- Captured numbers have at most 15 digits (below 2^53): a longer one takes the full path.
local CLOSED_HEAD = '^{"v":1,"state":"closed","forced":false,"epoch":(%d+),"incarnation":"([%w_%-]+)","failureCount":(%d+),"consecutiveSuccesses":(%d+),"lastFailureTime":([%dnul]+),"stats":{"totalSuccesses":(%d+),"totalFailures":(%d+)()'
local CLOSED_END = ',"halfOpen":{"attempts":0,"successes":0,"nextProbeId":0,"leases":{}}}'

-- Why the two hot paths below exist: bench rows `redis` and `redis-rate` at 4 processes, where
-- Redis's own CPU per script call sets the rate. The consecutive one cut a record from 8.9 to
-- 6.5-6.9 us of Redis time (INFO commandstats, 2026-11-27); the rate one runs at 7.8-8.2 us
-- (time window) against 6.0 us consecutive (2026-12-01); its gain over the full path was not
-- measured in one run and is the first thing to check when the rate rows are worked on.
-- The rate modes' hot path (recordw): an outcome that keeps a closed breaker closed and, for a
-- counted success, lands in the window's newest bucket (time) or ring (count) rewrites the same
-- head fields, then only the window's first bucket or its ring; anything else takes the full path.
local WINDOW_AT = ',"halfOpen":{"attempts":0,"successes":0,"nextProbeId":0,"leases":{}},"window":{"kind":"'

local raw = nil
if op == 'acquire' or op == 'record' or op == 'recordw' then
  raw = redis.pcall('GET', key)
  if op == 'record' and type(raw) == 'string' then
    local e, inc, fc, cs, lf, ts, tf, rest = string.match(raw, CLOSED_HEAD)
    if e and #e < 16 and #fc < 16 and #cs < 16 and #ts < 16 and #tf < 16 and #lf < 16
        and string.sub(raw, -#CLOSED_END) == CLOSED_END and (lf == 'null' or not string.find(lf, '%D')) then
      local outcome = ARGV[7]
      local pinc = ARGV[8]
      local current = ARGV[5] == e and (pinc == '' or pinc == inc)
      local counted, fast = 0, true
      -- A permit of this incarnation from a later epoch: the history was rewound (full path).
      if pinc == inc and not current and tonumber(ARGV[5]) > tonumber(e) then fast = false end
      if outcome == 'success' then
        ts = string.format('%d', ts + 1)
        if current then fc, cs, counted = '0', string.format('%d', cs + 1), 1 end
      elseif outcome == 'failure' then
        tf = string.format('%d', tf + 1)
        if current then
          local failures = fc + 1
          local threshold = tonumber(string.match(ARGV[4], '^(%d+),'))
          -- Opening, or a fractional `now`, is left to the full path (below).
          if failures < threshold and now == math.floor(now) then
            fc, cs, lf, counted = string.format('%d', failures), '0', string.format('%d', now), 1
          else
            fast = false
          end
        end
      elseif outcome ~= 'ignored' then
        fast = false
      end
      if fast then
        redis.call('SET', key, '{"v":1,"state":"closed","forced":false,"epoch":' .. e .. ',"incarnation":"' .. inc .. '","failureCount":' .. fc
          .. ',"consecutiveSuccesses":' .. cs .. ',"lastFailureTime":' .. lf .. ',"stats":{"totalSuccesses":' .. ts
          .. ',"totalFailures":' .. tf .. string.sub(raw, rest), 'EX', ttl)
        return counted
      end
    end
  elseif op == 'recordw' and type(raw) == 'string' then
    local e, inc, fc, cs, lf, ts, tf, rest = string.match(raw, CLOSED_HEAD)
    local at = e and #e < 16 and #fc < 16 and #cs < 16 and #ts < 16 and #tf < 16 and #lf < 16
      and (lf == 'null' or not string.find(lf, '%D')) and string.find(raw, WINDOW_AT, rest, true)
    local mode, size, slowMs = string.match(ARGV[4], '^[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,(%a+),(%d+),([^,]+),')
    -- The window, matched in one go: time → its head, the newest bucket's calls and where they
    -- are; count → its seq, workers and ring, up to the end of the value.
    local kind, wrest, head, before, hc, after, seq, workers, ring
    if at and mode == 'time' then
      local wsize
      wsize, wrest, head, before, hc, after = string.match(raw, '^time","size":(%d+),()"head":(%d+),"workers":%b{},"buckets":%[%[()(%d+)()', at + #WINDOW_AT)
      if wsize == size then kind = 'time' end
    elseif at and mode == 'count' then
      local wsize
      wsize, wrest, seq, workers, ring = string.match(raw, '^count","size":(%d+),()"seq":(%d+),"workers":(%b{}),"ring":"([ofsx]*)"}}$', at + #WINDOW_AT)
      if wsize == size then kind = 'count' end
    end
    if kind then
      local outcome = ARGV[7]
      local pinc = ARGV[8]
      local current = ARGV[5] == e and (pinc == '' or pinc == inc)
      local counted, fast = 0, true
      -- a counted success rewrites the window: the newest bucket's calls (time: raw up to `cut`,
      -- the new count, raw from `resume`) or the ring (count: raw up to `cut`, then `tail`)
      local cut, mid, resume, tail = nil, nil, nil, nil
      if pinc == inc and not current and tonumber(ARGV[5]) > tonumber(e) then fast = false end
      if outcome == 'success' then
        ts = string.format('%d', ts + 1)
        if current then
          if (tonumber(ARGV[10]) or -1) >= tonumber(slowMs) then
            fast = false -- a slow call: it may open (full path)
          elseif kind == 'time' then
            local n = math.min(tonumber(size), 20)
            if #head < 16 and #hc < 16 and tonumber(head) == math.floor(now / (tonumber(size) * 1000 / n))
                and string.sub(raw, -3) == ']}}' then
              cut, mid, resume = before - 1, string.format('%d', hc + 1), after
              fc, cs, counted = '0', string.format('%d', cs + 1), 1
            else
              fast = false -- a new bucket: the window moves (full path)
            end
          else
            if #seq < 16 then
              ring = ring .. 'o'
              if #ring > tonumber(size) then ring = string.sub(ring, 2) end
              cut, tail = wrest - 1, '"seq":' .. string.format('%d', seq + 1) .. ',"workers":' .. workers .. ',"ring":"' .. ring .. '"}}'
              fc, cs, counted = '0', string.format('%d', cs + 1), 1
            else
              fast = false
            end
          end
        end
      elseif outcome == 'failure' then
        tf = string.format('%d', tf + 1)
        if current then fast = false end -- a failure may open (full path)
      elseif outcome ~= 'ignored' then
        fast = false
      end
      if fast then
        -- One concatenation per value written.
        local value
        if mid then
          value = '{"v":1,"state":"closed","forced":false,"epoch":' .. e .. ',"incarnation":"' .. inc .. '","failureCount":' .. fc
            .. ',"consecutiveSuccesses":' .. cs .. ',"lastFailureTime":' .. lf .. ',"stats":{"totalSuccesses":' .. ts
            .. ',"totalFailures":' .. tf .. string.sub(raw, rest, cut) .. mid .. string.sub(raw, resume)
        elseif tail then
          value = '{"v":1,"state":"closed","forced":false,"epoch":' .. e .. ',"incarnation":"' .. inc .. '","failureCount":' .. fc
            .. ',"consecutiveSuccesses":' .. cs .. ',"lastFailureTime":' .. lf .. ',"stats":{"totalSuccesses":' .. ts
            .. ',"totalFailures":' .. tf .. string.sub(raw, rest, cut) .. tail
        else
          value = '{"v":1,"state":"closed","forced":false,"epoch":' .. e .. ',"incarnation":"' .. inc .. '","failureCount":' .. fc
            .. ',"consecutiveSuccesses":' .. cs .. ',"lastFailureTime":' .. lf .. ',"stats":{"totalSuccesses":' .. ts
            .. ',"totalFailures":' .. tf .. string.sub(raw, rest)
        end
        redis.call('SET', key, value, 'EX', ttl)
        return counted
      end
    end
  end
end

local cfg = nil
local function config()
  if not cfg then
    local p = {}
    for part in string.gmatch(ARGV[4], '[^,]+') do p[#p + 1] = part end
    cfg = {
      threshold = tonumber(p[1]),
      timeout = tonumber(p[2]),
      maxCalls = tonumber(p[3]),
      successThreshold = tonumber(p[4]),
      mult = tonumber(p[5]),
      maxTimeout = tonumber(p[6]),
    }
    -- A rate mode (nil: consecutive).
    if p[7] then
      cfg.mode = p[7]
      cfg.size = tonumber(p[8])
      cfg.slowMs = tonumber(p[9])
      cfg.minCalls = tonumber(p[10])
      cfg.failRate = tonumber(p[11])
      cfg.slowRate = tonumber(p[12])
      cfg.minWorkers = tonumber(p[13])
    end
  end
  return cfg
end
local NULL = cjson.null
local floor = math.floor

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
  local t = s.openedAt
  if t ~= NULL and not isCount(t) then return 'openedAt: not an instant' end
  t = s.lastFailureTime
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
  if s.state == 'open' and s.openedAt == NULL then return 'openedAt: an open circuit needs its opening time' end
  if s.window ~= nil then return invalidWindow(s.window) end
  return nil
end

-- Loads the state. A corrupt or wrong-type value is replaced by a fresh state that keeps every
-- statistic it can read; a value whose only fault is a statistic keeps its state, with that
-- statistic replaced. Returns state, repairReason ('' when none), missing (no value at the key).
local function load()
  local got = raw
  if got == nil then got = redis.pcall('GET', key) end
  if type(got) == 'table' and got.err then
    redis.call('DEL', key)
    return initial(nil), 'wrong Redis type (' .. got.err .. ')', false
  end
  if not got then return initial(nil), '', true end
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

-- A window's canonical form: ',"window":{...}' (its keys in window.ts's order, workers sorted), '' for none.
local function encodeWindow(w)
  if w == nil then return '' end
  local keys = {}
  for k in pairs(w.workers) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = '"' .. k .. '":' .. num(w.workers[k]) end
  local workers = '{' .. table.concat(keys, ',') .. '}'
  if w.kind == 'count' then
    return ',"window":{"kind":"count","size":' .. num(w.size) .. ',"seq":' .. num(w.seq) .. ',"workers":' .. workers
      .. ',"ring":"' .. w.ring .. '"}'
  end
  local bs = {}
  for i, b in ipairs(w.buckets) do bs[i] = '[' .. num(b[1]) .. ',' .. num(b[2]) .. ',' .. num(b[3]) .. ']' end
  return ',"window":{"kind":"time","size":' .. num(w.size) .. ',"head":' .. num(w.head) .. ',"workers":' .. workers
    .. ',"buckets":[' .. table.concat(bs, ',') .. ']}'
end

-- The canonical form (see the top of this file): the keys of BreakerState in its order.
local function encode(s)
  local h, st = s.halfOpen, s.stats
  local ids = {}
  for id in pairs(h.leases) do ids[#ids + 1] = id end
  table.sort(ids, byNumber)
  for i, id in ipairs(ids) do ids[i] = '"' .. id .. '":' .. num(h.leases[id]) end
  local inc = ''
  if s.incarnation then inc = ',"incarnation":"' .. s.incarnation .. '"' end
  return '{"v":1,"state":"' .. s.state .. '","forced":' .. tostring(s.forced) .. ',"epoch":' .. num(s.epoch) .. inc
    .. ',"failureCount":' .. num(s.failureCount) .. ',"consecutiveSuccesses":' .. num(s.consecutiveSuccesses)
    .. ',"lastFailureTime":' .. num(s.lastFailureTime)
    .. ',"stats":{"totalSuccesses":' .. num(st.totalSuccesses) .. ',"totalFailures":' .. num(st.totalFailures)
    .. ',"circuitOpens":' .. num(st.circuitOpens) .. ',"successfulRecoveries":' .. num(st.successfulRecoveries)
    .. ',"failedRecoveries":' .. num(st.failedRecoveries) .. ',"timeInOpenStateMs":' .. num(st.timeInOpenStateMs)
    .. ',"lastOpenTime":' .. num(st.lastOpenTime) .. '}'
    .. ',"timeoutSeconds":' .. num(s.timeoutSeconds) .. ',"openedAt":' .. num(s.openedAt)
    .. ',"lastStateChange":' .. num(s.lastStateChange)
    .. ',"halfOpen":{"attempts":' .. num(h.attempts) .. ',"successes":' .. num(h.successes)
    .. ',"nextProbeId":' .. num(h.nextProbeId) .. ',"leases":{' .. table.concat(ids, ',') .. '}}' .. encodeWindow(s.window) .. '}'
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

local s, repaired, missing = load()
local dirty = repaired ~= ''

if op == 'acquire' then
  local leaseMs = tonumber(ARGV[5])
  if not leaseMs or not (leaseMs >= 0 and leaseMs <= 4503599627370496 and leaseMs == floor(leaseMs)) then
    return redis.error_reply('ERR invalid leaseMs: ' .. tostring(ARGV[5]))
  end
  local event, from = '', ''
  if s.state == 'closed' then
    if dirty then persist(s) end
    return { repaired, s.epoch, s.incarnation or '' }
  end
  if s.state == 'open' then
    local untilMs = nil
    if not s.forced and s.openedAt ~= NULL then untilMs = s.openedAt + s.timeoutSeconds * 1000 end
    if not untilMs then
      if dirty then persist(s) end
      return { repaired, 0, 'open', 0, s.epoch, -1, -1, -1, '', '', encode(s), s.incarnation or '' }
    end
    if now < untilMs then
      if dirty then persist(s) end
      return { repaired, 0, 'open', 0, s.epoch, -1, untilMs - now, -1, '', '', encode(s), s.incarnation or '' }
    end
    moveTo(s, 'half-open')
    event, from, dirty = 'half-opened', 'open', true
  end
  if expireLeases(s) then dirty = true end
  if s.halfOpen.attempts >= config().maxCalls then
    local earliest = nil
    for _, exp in pairs(s.halfOpen.leases) do
      if not earliest or exp < earliest then earliest = exp end
    end
    local retry = 1000
    if earliest then retry = math.max(1, earliest - now) end
    local json
    if dirty then json = persist(s) else json = encode(s) end
    return { repaired, 0, 'half-open', 0, s.epoch, -1, retry, -1, event, from, json, s.incarnation or '' }
  end
  local probeId = s.halfOpen.nextProbeId
  local leaseExpiresAt = now + leaseMs
  s.halfOpen.attempts = s.halfOpen.attempts + 1
  s.halfOpen.nextProbeId = probeId + 1
  s.halfOpen.leases[tostring(probeId)] = leaseExpiresAt
  local json = persist(s)
  if event == '' then json = '' end
  return { repaired, 1, 'half-open', 1, s.epoch, probeId, -1, leaseExpiresAt, event, from, json, s.incarnation }
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
  local head = w.head
  local buckets = {}
  if at > head then
    for i = 1, math.min(at - head, n) do buckets[i] = { 0, 0, 0 } end
    for _, b in ipairs(w.buckets) do
      if #buckets >= n then break end
      buckets[#buckets + 1] = { b[1], b[2], b[3] }
    end
    while #buckets > 1 do
      local last = buckets[#buckets]
      if last[1] ~= 0 or last[2] ~= 0 or last[3] ~= 0 then break end
      buckets[#buckets] = nil
    end
    head = at
  else
    for i, b in ipairs(w.buckets) do buckets[i] = { b[1], b[2], b[3] } end
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
  s.window = { kind = 'time', size = w.size, head = head, workers = workers, buckets = buckets }
  if not bad then return false end
  local calls, failures, slowCalls = 0, 0, 0
  for _, x in ipairs(buckets) do
    calls = calls + x[1]
    failures = failures + x[2]
    slowCalls = slowCalls + x[3]
  end
  return ratesOpen(calls, failures, slowCalls, workersAfter(workers, head - n))
end

if op == 'record' or op == 'recordw' then
  local epoch = tonumber(ARGV[5])
  local probeId = tonumber(ARGV[6])
  local outcome = ARGV[7]
  local pinc = ARGV[8]
  local leaseAt = tonumber(ARGV[9])
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
  -- Saves, and replies; the state's JSON only with a transition.
  local function finish(counted, event, from)
    if event == '' then
      persist(s)
      if lost == '' then return { repaired, counted, s.state } end
      return { repaired, counted, s.state, '', '', '', lost }
    end
    local json = persist(s)
    return { repaired, counted, s.state, event, from, json, lost }
  end
  if epoch ~= s.epoch or (pinc ~= '' and pinc ~= s.incarnation) then return finish(0, '') end
  if s.state == 'closed' then
    if outcome == 'ignored' then return finish(0, '') end
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
      local slow = (tonumber(ARGV[10]) or -1) >= config().slowMs
      if mode == 'count' then open = countRecord(s, outcome, slow, ARGV[11]) else open = timeRecord(s, outcome, slow, ARGV[11]) end
    else
      s.window = nil
      open = outcome == 'failure' and s.failureCount >= config().threshold
    end
    if not open then return finish(1, '') end
    moveTo(s, 'open')
    return finish(1, 'opened', 'closed')
  end
  if s.state ~= 'half-open' or probeId < 0 then return finish(0, '') end
  local id = tostring(probeId)
  -- The lease must be this permit's own: after a restore, a new probe can hold the same id.
  if not s.halfOpen.leases[id] or (leaseAt >= 0 and s.halfOpen.leases[id] ~= leaseAt) then return finish(0, '') end
  s.halfOpen.leases[id] = nil
  if outcome == 'ignored' then
    s.halfOpen.attempts = s.halfOpen.attempts - 1
    return finish(0, '')
  end
  if outcome == 'success' then
    s.halfOpen.successes = s.halfOpen.successes + 1
    s.consecutiveSuccesses = s.consecutiveSuccesses + 1
    if s.halfOpen.successes < config().successThreshold then return finish(1, '') end
    moveTo(s, 'closed')
    s.failureCount = 0
    s.timeoutSeconds = config().timeout
    s.stats.successfulRecoveries = s.stats.successfulRecoveries + 1
    return finish(1, 'recovered', 'half-open')
  end
  s.failureCount = s.failureCount + 1
  s.consecutiveSuccesses = 0
  s.lastFailureTime = now
  s.timeoutSeconds = math.min(math.floor(s.timeoutSeconds * config().mult), config().maxTimeout)
  s.stats.failedRecoveries = s.stats.failedRecoveries + 1
  moveTo(s, 'open')
  return finish(1, 'reopened', 'half-open')
end

if op == 'command' then
  local cmd = ARGV[5]
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
  local json = persist(s)
  return { repaired, event, from, json }
end

if op == 'merge' then
  -- totals counted by an in-process fallback while Redis was unreachable
  s.stats.totalSuccesses = s.stats.totalSuccesses + tonumber(ARGV[5])
  s.stats.totalFailures = s.stats.totalFailures + tonumber(ARGV[6])
  return { repaired, persist(s) }
end

if op == 'load' then
  if dirty then return { repaired, persist(s) } end
  return { repaired, encode(s) }
end

return redis.error_reply('unknown breaker op: ' .. tostring(op))
