/**
 * The Redis port of `gate/pace.ts`: the same functions, line by line and in the same order of operations (so
 * that both compute bit-identical doubles), over a class's `PaceState` kept in the hash `KEYS[1]`.
 * Change one, change the other: `test/gate/pace-contract.test.ts` runs the same scenarios, and random event
 * sequences compared step by step, against both.
 *
 * KEYS[1]  the class's hash (`RedisKeys.limit`)
 * ARGV[1]  'grant' | 'settle' | 'read'
 * ARGV[2]  now in ms; '' (always, outside the contract test): Redis `TIME`, never a worker's clock
 * ARGV[3]  idle TTL in ms: the hash expires this long after its last use (after its pause and next slot)
 * ARGV[4]  the class's known limit in requests per minute, '' when unknown
 * ARGV[5..13]  the `PaceSettings`, in `PACE_SETTINGS` order
 * grant:  ARGV[14] how many slots are wanted → { granted, waitMs until the next may be granted (0: all were), event }
 * settle: ARGV[14..18] status ('' none), rateLimited ('1'|'0'), retryAfterMs ('' none), limit ('' |
 *         'rate' | 'concurrency'), outage ('1'|'0') → { event }
 * read:   → { now, ratePerSecond, field, value, field, value, … } (nothing written)
 *
 * The state is not written to the append-only file (`redis.set_repl(redis.REPL_NONE)`): it is soft — losing
 * it to a restart of Redis costs what starting a new process costs — and a write that is fsynced under
 * `appendfsync always` would add ~1 ms (one fsync) to every grant and settle.
 *
 * Numbers are stored with %.17g (round-trips a double exactly; Lua's tostring keeps 14 digits) and
 * 'inf' / '-inf' / 'nan' spelled out; a hash of another shape (`v` is not 1) starts afresh.
 */

export const PACE_SETTINGS = [
  'margin',
  'maxMargin',
  'recoveryPerSecond',
  'quietMs',
  'minRunForCut',
  'noiseMs',
  'fallbackPauseMs',
  'maxFallbackPauseMs',
  'minRatePerSecond',
] as const;

export const PACE_LUA = `
-- Soft state: kept out of the append-only file (and replicas), so that a provider call does not wait for
-- an fsync under appendfsync always; a restarted Redis starts every class afresh, as a new process would.
redis.set_repl(redis.REPL_NONE)
local INF = math.huge
local op = ARGV[1]
local now
if ARGV[2] ~= '' then
  now = tonumber(ARGV[2])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local idleTtlMs = tonumber(ARGV[3])
local function opt(v) if v == '' then return nil end return tonumber(v) end
local c = {
  knownRpm = opt(ARGV[4]),
  margin = tonumber(ARGV[5]), maxMargin = tonumber(ARGV[6]), recoveryPerSecond = tonumber(ARGV[7]),
  quietMs = tonumber(ARGV[8]), minRunForCut = tonumber(ARGV[9]), noiseMs = tonumber(ARGV[10]),
  fallbackPauseMs = tonumber(ARGV[11]), maxFallbackPauseMs = tonumber(ARGV[12]),
  minRatePerSecond = tonumber(ARGV[13]),
}
local hasKnown = c.knownRpm ~= nil and c.knownRpm ~= 0

local FIELDS = { 'margin', 'adaptive', 'cutRate', 'last429At', 'recoveredAt', 'nextSlot', 'pausedUntil',
  'consecutive429', 'epochStart', 'epochSuccesses', 'epochRequests', 'epochLimited', 'noiseUntil',
  'echoesUntil', 'rateLimited', 'event' }
local TRIAL = { 'rateBefore', 'shareBefore', 'from', 'requests', 'limited' }

local function encode(x)
  if x ~= x then return 'nan' elseif x == INF then return 'inf' elseif x == -INF then return '-inf' end
  return string.format('%.17g', x)
end
local function decode(v)
  if v == 'inf' then return INF elseif v == '-inf' then return -INF elseif v == 'nan' then return 0 / 0 end
  return tonumber(v)
end

local function newPace()
  return { margin = c.margin, adaptive = INF, cutRate = 0, last429At = -INF, recoveredAt = 0, nextSlot = 0,
    pausedUntil = 0, consecutive429 = 0, epochStart = 0 / 0, epochSuccesses = 0, epochRequests = 0,
    epochLimited = 0, noiseUntil = -INF, echoesUntil = -INF, rateLimited = 0, event = 0 }
end

local function load()
  local raw = redis.call('HGETALL', KEYS[1])
  local h = {}
  for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end
  if h.v ~= '1' then return newPace() end
  local s = {}
  for _, f in ipairs(FIELDS) do s[f] = decode(h[f]) end
  if h['trial.from'] then
    s.trial = {}
    for _, f in ipairs(TRIAL) do s.trial[f] = decode(h['trial.' .. f]) end
  end
  return s
end

local function flatten(s)
  local flat = {}
  for _, f in ipairs(FIELDS) do
    flat[#flat + 1] = f
    flat[#flat + 1] = encode(s[f])
  end
  if s.trial then
    for _, f in ipairs(TRIAL) do
      flat[#flat + 1] = 'trial.' .. f
      flat[#flat + 1] = encode(s.trial[f])
    end
  end
  return flat
end

local function save(s)
  if not s.trial then
    redis.call('HDEL', KEYS[1], 'trial.rateBefore', 'trial.shareBefore', 'trial.from', 'trial.requests',
      'trial.limited')
  end
  redis.call('HSET', KEYS[1], 'v', '1', unpack(flatten(s)))
  local busyUntil = math.max(s.pausedUntil, s.nextSlot, now)
  redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil(busyUntil - now + idleTtlMs)))
end

-- From here on: gate/pace.ts, function by function.

local function known(s)
  if hasKnown then return (c.knownRpm / 60) * (1 - s.margin) end
  return INF
end

local function paceRate(s)
  if s.adaptive ~= INF and now - s.last429At > c.quietMs and now > s.recoveredAt then
    local from = math.max(s.recoveredAt, s.last429At + c.quietMs)
    s.adaptive = s.adaptive + (s.cutRate * c.recoveryPerSecond * (now - from)) / 1000
    s.recoveredAt = now
    if s.adaptive >= known(s) then s.adaptive = INF end
  end
  return math.min(known(s), s.adaptive)
end

local function paceBegin(s)
  if s.epochStart ~= s.epochStart then s.epochStart = now end
end

local function paceGrant(s)
  if now < s.pausedUntil then return false end
  local rate = paceRate(s)
  if rate ~= INF then
    if now < s.nextSlot then return false end
    s.nextSlot = math.max(s.nextSlot, now) + 1000 / rate
  end
  return true
end

local function paceDue(s)
  local rate = paceRate(s)
  local slot = 0
  if rate ~= INF then slot = s.nextSlot end
  return math.max(s.pausedUntil, slot)
end

local function react(s)
  s.event = s.event + 1
  local share = s.epochLimited / math.max(1, s.epochRequests)
  local trial = s.trial
  local decided = true
  if trial and trial.requests < 5 then
    decided = false
  elseif trial and trial.limited / trial.requests >= trial.shareBefore / 2 then
    s.adaptive = trial.rateBefore
    s.trial = nil
    s.noiseUntil = now + c.noiseMs
    decided = false
  else
    s.trial = nil
  end
  if decided then
    if hasKnown and s.margin < c.maxMargin then
      s.margin = math.min(c.maxMargin, s.margin + 0.02)
    elseif now >= s.noiseUntil and s.epochSuccesses >= c.minRunForCut then
      local epochSeconds = math.max(0.001, (s.pausedUntil - s.epochStart) / 1000)
      local accepted = s.epochSuccesses / epochSeconds
      local current = paceRate(s)
      local halved = 0
      if current ~= INF then halved = current / 2 end
      local nxt = math.max(accepted, halved, c.minRatePerSecond)
      if nxt < current then
        s.trial = { rateBefore = s.adaptive, shareBefore = share, from = s.pausedUntil, requests = 0, limited = 0 }
        s.adaptive = nxt
        s.cutRate = nxt
        s.recoveredAt = s.pausedUntil
      end
    end
  end
  s.epochStart = s.pausedUntil
  s.epochSuccesses = 0
  s.epochRequests = 0
  s.epochLimited = 0
end

local function paceSettle(s, o)
  paceBegin(s)
  if o.status ~= nil or o.rateLimited then
    s.epochRequests = s.epochRequests + 1
    if o.rateLimited then s.epochLimited = s.epochLimited + 1 end
    if s.trial and now >= s.trial.from then
      s.trial.requests = s.trial.requests + 1
      if o.rateLimited then s.trial.limited = s.trial.limited + 1 end
    end
  end
  if o.outage then return end
  if not o.rateLimited then
    if o.status ~= nil then
      s.epochSuccesses = s.epochSuccesses + 1
      s.consecutive429 = 0
    end
    return
  end
  s.rateLimited = s.rateLimited + 1
  s.consecutive429 = s.consecutive429 + 1
  local pauseMs = o.retryAfterMs
  if pauseMs == nil then
    pauseMs = math.min(c.maxFallbackPauseMs, c.fallbackPauseMs * 2 ^ math.min(s.consecutive429 - 1, 16))
  end
  s.pausedUntil = math.max(s.pausedUntil, now + pauseMs)
  s.nextSlot = math.max(s.nextSlot, s.pausedUntil)
  if o.limit ~= 'concurrency' and now >= s.echoesUntil then
    react(s)
    s.echoesUntil = math.max(s.pausedUntil, now + 200)
  end
  s.last429At = now
end

local s = load()
if op == 'grant' then
  local want = tonumber(ARGV[14])
  paceBegin(s)
  local granted = 0
  while granted < want and paceGrant(s) do granted = granted + 1 end
  local waitMs = 0
  if granted < want then waitMs = paceDue(s) - now end
  save(s)
  return { granted, encode(waitMs), s.event }
elseif op == 'settle' then
  paceSettle(s, {
    status = opt(ARGV[14]),
    rateLimited = ARGV[15] == '1',
    retryAfterMs = opt(ARGV[16]),
    limit = ARGV[17],
    outage = ARGV[18] == '1',
  })
  save(s)
  return { s.event }
elseif op == 'read' then
  local rate = paceRate(s)
  return { encode(now), encode(rate), unpack(flatten(s)) }
end
return redis.error_reply('flf2v pace: unknown op ' .. tostring(op))
`;
