-- The breaker state machine, run atomically inside Redis. It mirrors src/breaker/transitions.ts
-- step for step (the store-conformance suite checks that they agree). One key per call, so it
-- runs unchanged on Redis Cluster. `now` comes from the caller: Redis's clock is never read.
--
-- KEYS[1]  the breaker's key
-- ARGV     op, now, ttlSeconds, failureThreshold, timeoutSeconds, halfOpenMaxCalls,
--          halfOpenSuccessThreshold, backoffMultiplier, maxTimeoutSeconds, op arguments...
local key = KEYS[1]
local op = ARGV[1]
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local cfg = {
  threshold = tonumber(ARGV[4]),
  timeout = tonumber(ARGV[5]),
  maxCalls = tonumber(ARGV[6]),
  successThreshold = tonumber(ARGV[7]),
  mult = tonumber(ARGV[8]),
  maxTimeout = tonumber(ARGV[9]),
}
local NULL = cjson.null

local function emptyHalfOpen()
  return { attempts = 0, successes = 0, nextProbeId = 0, leases = {} }
end

local function emptyStats()
  return { totalFailures = 0, totalSuccesses = 0, circuitOpens = 0, successfulRecoveries = 0,
    failedRecoveries = 0, timeInOpenStateMs = 0, lastOpenTime = NULL }
end

local function initial(stats)
  return { v = 1, state = 'closed', forced = false, epoch = 0, failureCount = 0,
    consecutiveSuccesses = 0, timeoutSeconds = cfg.timeout, openedAt = NULL,
    lastFailureTime = NULL, lastStateChange = NULL, halfOpen = emptyHalfOpen(),
    stats = stats or emptyStats() }
end

local function isCount(x)
  return type(x) == 'number' and x >= 0 and x == math.floor(x)
end

local function isInstantOrNull(x)
  return x == NULL or isCount(x)
end

local function validStats(st)
  if type(st) ~= 'table' then return false end
  for _, f in ipairs({ 'totalFailures', 'totalSuccesses', 'circuitOpens', 'successfulRecoveries',
      'failedRecoveries', 'timeInOpenStateMs' }) do
    if not isCount(st[f]) then return false end
  end
  return isInstantOrNull(st.lastOpenTime)
end

-- Returns nil when valid, else the reason.
local function invalid(s)
  if type(s) ~= 'table' then return 'not an object' end
  if s.v ~= 1 then return 'v: unknown version' end
  if s.state ~= 'closed' and s.state ~= 'open' and s.state ~= 'half-open' then return 'state: unknown state' end
  if type(s.forced) ~= 'boolean' then return 'forced: not a boolean' end
  for _, f in ipairs({ 'epoch', 'failureCount', 'consecutiveSuccesses' }) do
    if not isCount(s[f]) then return f .. ': not a count' end
  end
  if not isCount(s.timeoutSeconds) or s.timeoutSeconds < 1 then return 'timeoutSeconds: not a positive integer' end
  for _, f in ipairs({ 'openedAt', 'lastFailureTime', 'lastStateChange' }) do
    if not isInstantOrNull(s[f]) then return f .. ': not an instant' end
  end
  local h = s.halfOpen
  if type(h) ~= 'table' or not isCount(h.attempts) or not isCount(h.successes) or not isCount(h.nextProbeId)
      or type(h.leases) ~= 'table' then
    return 'halfOpen: malformed'
  end
  for id, exp in pairs(h.leases) do
    if type(id) ~= 'string' or not string.match(id, '^%d+$') or not isCount(exp) then return 'halfOpen.leases: malformed' end
  end
  if not validStats(s.stats) then return 'stats: malformed' end
  return nil
end

-- Loads the state; a corrupt or wrong-type value is replaced by a fresh state that keeps
-- whatever statistics survived. Returns state, repairReason ('' when none).
local function load()
  local got = redis.pcall('GET', key)
  if type(got) == 'table' and got.err then
    redis.call('DEL', key)
    return initial(nil), 'wrong Redis type (' .. got.err .. ')'
  end
  if not got then return initial(nil), '' end
  local ok, s = pcall(cjson.decode, got)
  if not ok then return initial(nil), 'not JSON' end
  local why = invalid(s)
  if why then
    local stats = nil
    if type(s) == 'table' and validStats(s.stats) then stats = s.stats end
    return initial(stats), why
  end
  return s, ''
end

local function save(s)
  redis.call('SET', key, cjson.encode(s), 'EX', ttl)
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

local function openUntil(s)
  if s.state == 'open' and not s.forced and s.openedAt ~= NULL then
    return s.openedAt + s.timeoutSeconds * 1000
  end
  return nil
end

local s, repaired = load()
local dirty = repaired ~= ''

if op == 'acquire' then
  local leaseMs = tonumber(ARGV[10])
  local event, from = '', ''
  if s.state == 'closed' then
    if dirty then save(s) end
    return { repaired, 1, 'closed', 0, s.epoch, -1, -1, -1, '', '', '' }
  end
  if s.state == 'open' then
    local untilMs = openUntil(s)
    if not untilMs then
      if dirty then save(s) end
      return { repaired, 0, 'open', 0, s.epoch, -1, -1, -1, '', '', cjson.encode(s) }
    end
    if now < untilMs then
      if dirty then save(s) end
      return { repaired, 0, 'open', 0, s.epoch, -1, untilMs - now, -1, '', '', cjson.encode(s) }
    end
    moveTo(s, 'half-open')
    event, from, dirty = 'half-opened', 'open', true
  end
  if expireLeases(s) then dirty = true end
  if s.halfOpen.attempts >= cfg.maxCalls then
    local earliest = nil
    for _, exp in pairs(s.halfOpen.leases) do
      if not earliest or exp < earliest then earliest = exp end
    end
    local retry = 1000
    if earliest then retry = math.max(1, earliest - now) end
    local json = cjson.encode(s)
    if dirty then redis.call('SET', key, json, 'EX', ttl) end
    return { repaired, 0, 'half-open', 0, s.epoch, -1, retry, -1, event, from, json }
  end
  local probeId = s.halfOpen.nextProbeId
  local leaseExpiresAt = now + leaseMs
  s.halfOpen.attempts = s.halfOpen.attempts + 1
  s.halfOpen.nextProbeId = probeId + 1
  s.halfOpen.leases[tostring(probeId)] = leaseExpiresAt
  local json = cjson.encode(s)
  redis.call('SET', key, json, 'EX', ttl)
  if event == '' then json = '' end
  return { repaired, 1, 'half-open', 1, s.epoch, probeId, -1, leaseExpiresAt, event, from, json }
end

if op == 'record' then
  local epoch = tonumber(ARGV[10])
  local probeId = tonumber(ARGV[11])
  local outcome = ARGV[12]
  if outcome == 'success' then
    s.stats.totalSuccesses = s.stats.totalSuccesses + 1
  elseif outcome == 'failure' then
    s.stats.totalFailures = s.stats.totalFailures + 1
  end
  expireLeases(s)
  local function finish(counted, event, from)
    save(s)
    local json = ''
    if event ~= '' then json = cjson.encode(s) end
    return { repaired, counted, s.state, event, from, json }
  end
  if epoch ~= s.epoch then return finish(0, '', '') end
  if s.state == 'closed' then
    if outcome == 'ignored' then return finish(0, '', '') end
    if outcome == 'success' then
      s.failureCount = 0
      s.consecutiveSuccesses = s.consecutiveSuccesses + 1
      return finish(1, '', '')
    end
    s.failureCount = s.failureCount + 1
    s.consecutiveSuccesses = 0
    s.lastFailureTime = now
    if s.failureCount < cfg.threshold then return finish(1, '', '') end
    moveTo(s, 'open')
    return finish(1, 'opened', 'closed')
  end
  if s.state ~= 'half-open' or probeId < 0 then return finish(0, '', '') end
  local id = tostring(probeId)
  if not s.halfOpen.leases[id] then return finish(0, '', '') end
  s.halfOpen.leases[id] = nil
  if outcome == 'ignored' then
    s.halfOpen.attempts = s.halfOpen.attempts - 1
    return finish(0, '', '')
  end
  if outcome == 'success' then
    s.halfOpen.successes = s.halfOpen.successes + 1
    s.consecutiveSuccesses = s.consecutiveSuccesses + 1
    if s.halfOpen.successes < cfg.successThreshold then return finish(1, '', '') end
    moveTo(s, 'closed')
    s.failureCount = 0
    s.timeoutSeconds = cfg.timeout
    s.stats.successfulRecoveries = s.stats.successfulRecoveries + 1
    return finish(1, 'recovered', 'half-open')
  end
  s.failureCount = s.failureCount + 1
  s.consecutiveSuccesses = 0
  s.lastFailureTime = now
  s.timeoutSeconds = math.min(math.floor(s.timeoutSeconds * cfg.mult), cfg.maxTimeout)
  s.stats.failedRecoveries = s.stats.failedRecoveries + 1
  moveTo(s, 'open')
  return finish(1, 'reopened', 'half-open')
end

if op == 'command' then
  local cmd = ARGV[10]
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
    s.timeoutSeconds = cfg.timeout
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
  local json = cjson.encode(s)
  redis.call('SET', key, json, 'EX', ttl)
  return { repaired, event, from, json }
end

if op == 'merge' then
  -- totals counted by an in-process fallback while Redis was unreachable
  s.stats.totalSuccesses = s.stats.totalSuccesses + tonumber(ARGV[10])
  s.stats.totalFailures = s.stats.totalFailures + tonumber(ARGV[11])
  save(s)
  return { repaired, cjson.encode(s) }
end

if op == 'load' then
  if dirty then save(s) end
  return { repaired, cjson.encode(s) }
end

return redis.error_reply('unknown breaker op: ' .. tostring(op))
