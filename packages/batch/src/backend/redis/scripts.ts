import type { Redis } from 'ioredis';
import { PACE_LUA } from './pace-lua.js';

/**
 * The Redis backend's atomic transitions, as Lua scripts (the way BullMQ's own scripts are its state machine).
 * `append` is the journal's one door: a record is checked against the task's guard fields, applied to them and
 * pushed onto the run's journal and the task's own records in one atomic step, durable before Redis answers
 * (`appendfsync always`). The phase itself is computed by the writer's reducer (`state/run-state.ts`, the one
 * definition); the script keeps only what it must guard or count.
 */

/**
 * KEYS: 1 run hash · 2 run journal · 3 task guard hash · 4 task records · 5 the job's lock · 6 uploads hash
 * ARGV: 1 record (JSON) · 2 kind · 3 lock token ('' = none to check) · 4 intent number · 5 phase after ('' = none)
 *       6 upload sha256 ('' = none) · 7 upload (JSON) · 8 task id (planned) · 9 task key (planned)
 * kind: `run` (run-level record) · `planned` (added once: an existing task is left as it is) · `intent` (needs the
 *   job's lock, no open intent, and the next number; the open intent sent again under the same lock is taken as
 *   appended — ioredis sends a command again when its answer was lost with the connection) · `outcome` (of an
 *   intent: always taken — it is a fact the provider gave, whoever holds the lock now) · `decision` (needs the lock
 *   when a token is given) · `fact`.
 * Returns { status, open, ownLock }: status 1 appended, 0 already planned, -1 the job's lock is another worker's,
 *   -2 another intent is open or the number was taken; open: the run's tasks not yet settled (succeeded, failed or
 *   unknown); ownLock: 1 when the token holds the job's lock (or none was given).
 */
const APPEND = `
local rcall = redis.call
local kind = ARGV[2]
local ownLock = 1
if ARGV[3] ~= '' and rcall('GET', KEYS[5]) ~= ARGV[3] then ownLock = 0 end
local function settled(phase)
  return phase == 'succeeded' or phase == 'failed' or phase == 'unknown'
end
if kind == 'run' then
  rcall('RPUSH', KEYS[2], ARGV[1])
  return {1, tonumber(rcall('HGET', KEYS[1], 'open') or '0'), ownLock}
end
if kind == 'planned' then
  if rcall('EXISTS', KEYS[3]) == 1 then
    return {0, tonumber(rcall('HGET', KEYS[1], 'open') or '0'), ownLock}
  end
  rcall('HSET', KEYS[3], 'phase', 'planned', 'lastN', 0, 'pending', 0)
  rcall('HINCRBY', KEYS[1], 'tasks', 1)
  rcall('HINCRBY', KEYS[1], 'open', 1)
  rcall('HINCRBY', KEYS[1], 'phase:planned', 1)
  rcall('HSETNX', KEYS[1], 'owner:' .. ARGV[8], ARGV[9])
  rcall('RPUSH', KEYS[2], ARGV[1])
  rcall('RPUSH', KEYS[4], ARGV[1])
  return {1, tonumber(rcall('HGET', KEYS[1], 'open')), ownLock}
end
if ownLock == 0 and (kind == 'intent' or kind == 'decision') then
  return {-1, tonumber(rcall('HGET', KEYS[1], 'open') or '0'), 0}
end
if kind == 'intent' then
  local n = tonumber(ARGV[4])
  local guard = rcall('HMGET', KEYS[3], 'pending', 'lastN', 'intentBy')
  if tonumber(guard[1] or '0') > 0 and tonumber(guard[2] or '0') == n and guard[3] == ARGV[3] then
    -- The same intent again (its answer was lost with the connection, and the client sent it anew).
    return {1, tonumber(rcall('HGET', KEYS[1], 'open') or '0'), ownLock}
  end
  if tonumber(guard[1] or '0') > 0 or tonumber(guard[2] or '0') ~= n - 1 then
    return {-2, tonumber(rcall('HGET', KEYS[1], 'open') or '0'), ownLock}
  end
  rcall('HSET', KEYS[3], 'lastN', n, 'pending', 1, 'intentBy', ARGV[3])
elseif kind == 'outcome' then
  rcall('HSET', KEYS[3], 'pending', 0)
end
if ARGV[5] ~= '' then
  local before = rcall('HGET', KEYS[3], 'phase')
  if before and before ~= ARGV[5] then
    if settled(before) ~= settled(ARGV[5]) then
      rcall('HINCRBY', KEYS[1], 'open', settled(ARGV[5]) and -1 or 1)
    end
    rcall('HINCRBY', KEYS[1], 'phase:' .. before, -1)
    rcall('HINCRBY', KEYS[1], 'phase:' .. ARGV[5], 1)
  end
  rcall('HSET', KEYS[3], 'phase', ARGV[5])
end
if ARGV[6] ~= '' then rcall('HSET', KEYS[6], ARGV[6], ARGV[7]) end
rcall('RPUSH', KEYS[2], ARGV[1])
rcall('RPUSH', KEYS[4], ARGV[1])
return {1, tonumber(rcall('HGET', KEYS[1], 'open') or '0'), ownLock}
`;

/** Lua: `now`, Redis time in ms (never a worker's clock). */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * In-flight slots: tasks running at the provider, one member per task, scored by lease expiry (Redis time, ms), so
 * that a slot held by a worker that died frees itself. KEYS: 1 the slots (sorted set) · 2 the learned cap.
 */
const SLOT_TAKE = `
-- ARGV: 1 member · 2 lease ms · 3 the user's cap (0 = none) · 4 force (1: a task already at the provider)
--       5 probe ms: a learned cap grows by one per quiet probe period
${NOW_MS}redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  return 1
end
local cap = tonumber(ARGV[3])
if cap == 0 then
  local learned = redis.call('HMGET', KEYS[2], 'cap', 'at')
  if learned[1] then
    cap = tonumber(learned[1]) + math.floor((now - tonumber(learned[2])) / tonumber(ARGV[5]))
  end
end
if ARGV[4] == '1' or cap == 0 or redis.call('ZCARD', KEYS[1]) < cap then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  return 1
end
return 0
`;

/** ARGV: 1 lease ms · 2.. members to renew (those no longer held are not re-added). Returns how many are held. */
const SLOT_RENEW = `
${NOW_MS}local held = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
    held = held + 1
  end
end
return held
`;

/**
 * The provider refused a submit because too many of the key's tasks run: the cap becomes the number of slots held
 * now, at least one below the cap in force (some held tasks may have finished unnoticed), and its probe period
 * starts again. Refusals within `burst` ms of the last one are one event. ARGV: 1 probe ms · 2 burst ms.
 * Returns the cap.
 */
const SLOT_LEARN = `
${NOW_MS}redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
local learned = redis.call('HMGET', KEYS[2], 'cap', 'at')
local cap = held
if learned[1] then
  local inForce = tonumber(learned[1]) + math.floor((now - tonumber(learned[2])) / tonumber(ARGV[1]))
  if now - tonumber(learned[2]) < tonumber(ARGV[2]) then return inForce end
  if inForce - 1 < cap then cap = inForce - 1 end
end
if cap < 1 then cap = 1 end
redis.call('HSET', KEYS[2], 'cap', cap, 'at', now)
return cap
`;

export interface RedisScripts {
  /** KEYS 1–6 then ARGV 1–9 of `APPEND`, in that order. */
  flf2vAppend(...keysThenArgs: string[]): Promise<[number, number, number]>;
  flf2vSlotTake(
    k1: string,
    k2: string,
    member: string,
    leaseMs: number,
    cap: number,
    force: 0 | 1,
    probeMs: number,
  ): Promise<number>;
  flf2vSlotRenew(k1: string, leaseMs: number, ...members: string[]): Promise<number>;
  flf2vSlotLearn(k1: string, k2: string, probeMs: number, burstMs: number): Promise<number>;
  /** The pace of a call class (`pace-lua.ts`): KEYS[1], then its ARGV. */
  flf2vPace(key: string, ...args: string[]): Promise<unknown>;
}

/** Register the scripts on a client (EVALSHA, loaded once). */
export function withScripts(redis: Redis): Redis & RedisScripts {
  const r = redis as Redis & RedisScripts;
  if (typeof r.flf2vAppend === 'function') return r;
  redis.defineCommand('flf2vAppend', { numberOfKeys: 6, lua: APPEND });
  redis.defineCommand('flf2vSlotTake', { numberOfKeys: 2, lua: SLOT_TAKE });
  redis.defineCommand('flf2vSlotRenew', { numberOfKeys: 1, lua: SLOT_RENEW });
  redis.defineCommand('flf2vSlotLearn', { numberOfKeys: 2, lua: SLOT_LEARN });
  redis.defineCommand('flf2vPace', { numberOfKeys: 1, lua: PACE_LUA });
  return r;
}
