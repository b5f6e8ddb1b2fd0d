/**
 * One round trip per check: the whole decision for every limit of a request, the all-or-nothing
 * write and the violation/block bookkeeping run in one Lua script. It mirrors src/algorithms/*.ts.
 * Several checks issued in the same tick go out as one script call (one round trip for all).
 *
 * ARGV: 1 now in ms (-1: use the server's TIME), 2 number of checks, then per check: cost, limit
 *       count n, penalty (0/1), violations, withinMs, blockMs, multiplier, maxBlockMs, levelResetMs,
 *       nonce, then 4 per limit: algorithm code (f s l g k; S: a sliding window counting every
 *       request, written even when the check is rejected), limit, windowMs, maxWaitMs.
 * KEYS per check: block, violations, level, then one per limit (all share the `{key}` hash tag).
 * Returns one array per check: { allowed 0/1, blockedForMs, then 4 per limit: remaining, resetMs,
 * retryAfterMs, delayMs }.
 */
export const consumeScript = `
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local eps = 1e-6
local function ceil(x) return math.ceil(x - eps) end
-- Sliding window: points of a window (count between first and last) still counted after cutoff.
local function swAfter(count, first, last, cutoff)
  if count == 0 or cutoff >= last then return 0 end
  if cutoff < first then return count end
  return 1 + (math.max(count - 2, 0) * (last - cutoff)) / (last - first)
end
-- Sliding window: the earliest cutoff at which swAfter(...) <= room.
local function swCutoff(count, first, last, room)
  if room < 1 or first == last then return last end
  if count <= 2 then return first end
  return math.max(first, last - ((room - 1) * (last - first)) / (count - 2))
end
-- Sliding window: a window of n points from f to l, the first sn of them ending at se and the rest
-- starting at ss (sn 0: one span); points still counted after cutoff, the earliest cutoff leaving room.
local function spAfter(n, f, l, sn, se, ss, cutoff)
  if sn == 0 then return swAfter(n, f, l, cutoff) end
  return swAfter(sn, f, se, cutoff) + swAfter(n - sn, ss, l, cutoff)
end
local function spCutoff(n, f, l, sn, se, ss, room)
  if sn == 0 then return swCutoff(n, f, l, room) end
  local later = n - sn
  if room >= later then return swCutoff(sn, f, se, room - later) end
  return swCutoff(later, ss, l, room)
end
-- Sliding window: the window after recording cost points at now (the split moves to the pause before
-- now if it is the longest).
local function swRecord(n, f, l, sn, se, ss, cost)
  if n == 0 then return cost, now, now, 0, 0, 0 end
  local longest = 0
  if sn ~= 0 then longest = ss - se end
  if now - l > longest then return n + cost, f, now, n, l, now end
  return n + cost, f, now, sn, se, ss
end
-- Sliding window: writes a window state collected in writes[i].
local function swWrite(w)
  redis.call('HSET', w[2], 'w', w[3], 'c', w[4], 'p', w[5], 'a', w[7], 'z', w[8], 'pa', w[9], 'pz', w[10],
    's', w[11], 'se', w[12], 'ss', w[13], 'ps', w[14], 'pse', w[15], 'pss', w[16])
end
local function check(kb, ab)
local cost = tonumber(ARGV[ab + 1])
local n = tonumber(ARGV[ab + 2])
local penalty = ARGV[ab + 3] == '1'
if penalty then
  local blockedUntil = tonumber(redis.call('GET', KEYS[kb + 1]) or '0')
  if blockedUntil > now then return {0, blockedUntil - now} end
end
local out = {1, 0}
local allowed = true
local writes = {}
local oks = {}
local limitsOf = {}
for i = 1, n do
  local b = ab + 10 + (i - 1) * 4
  local algo = ARGV[b + 1]
  local limit = tonumber(ARGV[b + 2])
  local window = tonumber(ARGV[b + 3])
  local maxWait = tonumber(ARGV[b + 4])
  local key = KEYS[kb + 3 + i]
  local ok, remaining, reset, retry, delay = true, 0, 0, 0, 0
  if algo == 'f' then
    -- The count of the window starting at ws is the hash field ws (see fixedWindowScript).
    local ws = now - (now % window)
    local c = tonumber(redis.call('HGET', key, ws))
    local fresh = c == nil
    if fresh then
      c = 0
      -- Carry a count written by the old layout (fields w and c) for this window.
      local old = redis.call('HMGET', key, 'w', 'c')
      if tonumber(old[1]) == ws then c = tonumber(old[2]) end
    end
    local r = ws + window - now
    ok = c + cost <= limit
    if ok then remaining = limit - c - cost else remaining = limit - c end
    reset = r
    if c == 0 and not ok then reset = 0 end
    if not ok then retry = r end
    writes[i] = {'f', key, ws, c + cost, r, fresh, window}
  elseif algo == 's' or algo == 'S' then
    -- Mirrors src/algorithms/sliding-window.ts (same arithmetic, same order: memory and Redis agree).
    local ws = now - (now % window)
    local st = redis.call('HMGET', key, 'w', 'c', 'p', 'a', 'z', 'pa', 'pz', 's', 'se', 'ss', 'ps', 'pse', 'pss')
    local w0 = tonumber(st[1])
    local c, ca, cz, cs, cse, css = 0, 0, 0, 0, 0, 0
    local p, pa, pz, ps, pse, pss = 0, 0, 0, 0, 0, 0
    if w0 == ws then
      c = tonumber(st[2])
      if c ~= 0 then
        -- Without times (earlier builds), this window's points count as spread up to now.
        ca = tonumber(st[4]) or ws
        cz = tonumber(st[5]) or now
        cs = tonumber(st[8]) or 0; cse = tonumber(st[9]) or 0; css = tonumber(st[10]) or 0
      end
      p = tonumber(st[3])
      pa = tonumber(st[6]) or (ws - window)
      pz = tonumber(st[7]) or ws
      ps = tonumber(st[11]) or 0; pse = tonumber(st[12]) or 0; pss = tonumber(st[13]) or 0
    elseif w0 == ws - window then
      p = tonumber(st[2])
      pa = tonumber(st[4]) or (ws - window)
      pz = tonumber(st[5]) or ws
      ps = tonumber(st[8]) or 0; pse = tonumber(st[9]) or 0; pss = tonumber(st[10]) or 0
    end
    local elapsed = now - ws
    local est = spAfter(p, pa, pz, ps, pse, pss, now - window) + c
    ok = est + cost <= limit
    -- S (count 'all'): a rejected request is recorded too.
    local recorded = ok or algo == 'S'
    local n2, f2, l2, s2, se2, ss2 = swRecord(c, ca, cz, cs, cse, css, cost)
    if not ok then
      -- The current window once this request is recorded (unchanged when it is not).
      local kn, kf, kl, ks, kse, kss = c, ca, cz, cs, cse, css
      if recorded then kn, kf, kl, ks, kse, kss = n2, f2, l2, s2, se2, ss2 end
      if kn + cost <= limit then
        retry = ceil(spCutoff(p, pa, pz, ps, pse, pss, limit - kn - cost) + window - now)
      elseif cost <= limit then
        retry = ceil(math.max(ws, spCutoff(kn, kf, kl, ks, kse, kss, limit - cost)) + window - now)
      else
        retry = window * 2
      end
      if retry < 1 then retry = 1 end
    end
    local used = est
    if recorded then used = est + cost end
    remaining = math.floor(limit - used)
    if remaining < 0 then remaining = 0 end
    if recorded then reset = window
    elseif c > 0 then reset = cz + window - now
    elseif p > 0 then reset = math.max(0, pz + window - now)
    else reset = 0 end
    writes[i] = {algo, key, ws, n2, p, 2 * window - elapsed, f2, l2, pa, pz, s2, se2, ss2, ps, pse, pss}
  elseif algo == 'l' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local count = redis.call('ZCARD', key)
    ok = count + cost <= limit
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if not ok then
      local needed = count + cost - limit
      if needed <= count then
        local e = redis.call('ZRANGE', key, needed - 1, needed - 1, 'WITHSCORES')
        retry = tonumber(e[2]) + window - now
      else
        retry = window
      end
      remaining = limit - count
      if oldest[2] then reset = tonumber(oldest[2]) + window - now else reset = 0 end
    else
      remaining = limit - count - cost
      if oldest[2] then reset = tonumber(oldest[2]) + window - now else reset = window end
    end
    writes[i] = {'l', key, window}
  else
    local interval = window / limit
    local tat = tonumber(redis.call('GET', key) or '0')
    if tat < now then tat = now end
    local nxt = tat + cost * interval
    if algo == 'g' then
      local ahead = nxt - now
      ok = ahead <= window + eps
      local held = tat - now
      if ok then held = ahead end
      remaining = math.floor((window - held) / interval + eps)
      if remaining < 0 then remaining = 0 end
      reset = ceil(held)
      if not ok then retry = ceil(ahead - window) end
    else
      local d = tat - now
      ok = d <= maxWait + eps
      local queued = d
      if ok then queued = nxt - now; delay = ceil(d) end
      if queued > maxWait + eps then remaining = 0 else remaining = math.floor((maxWait - queued) / interval + eps) + 1 end
      reset = ceil(queued)
      if not ok then
        retry = ceil(d - maxWait)
        if retry < 1 then retry = 1 end
      end
    end
    local ttl = math.ceil(nxt - now)
    if ttl < 1 then ttl = 1 end
    writes[i] = {'g', key, nxt, ttl}
  end
  if not ok then allowed = false end
  oks[i] = ok
  limitsOf[i] = limit
  out[#out + 1] = remaining
  out[#out + 1] = reset
  out[#out + 1] = retry
  if ok then out[#out + 1] = delay else out[#out + 1] = 0 end
end
if allowed then
  for i = 1, n do
    local w = writes[i]
    if w[1] == 'f' then
      redis.call('HSET', w[2], w[3], w[4])
      if w[6] then
        redis.call('HDEL', w[2], 'w', 'c', w[3] - w[7])
        redis.call('PEXPIRE', w[2], math.max(1, w[5]))
      end
    elseif w[1] == 's' or w[1] == 'S' then
      swWrite(w)
      redis.call('PEXPIRE', w[2], math.max(1, w[6]))
    elseif w[1] == 'l' then
      for j = 1, cost do redis.call('ZADD', w[2], now, ARGV[ab + 10] .. ':' .. j) end
      redis.call('PEXPIRE', w[2], w[3])
    else
      redis.call('SET', w[2], string.format('%.4f', w[3]), 'PX', w[4])
    end
  end
else
  out[1] = 0
  for i = 1, n do
    local w = writes[i]
    if w[1] == 'S' then
      -- Counts every request: recorded although another limit (or this one) rejected it.
      swWrite(w)
      redis.call('PEXPIRE', w[2], math.max(1, w[6]))
    elseif oks[i] then
      local at = 3 + (i - 1) * 4
      out[at] = math.min(limitsOf[i], out[at] + cost)
    end
  end
  for i = 1, n do
    local w = writes[i]
    if w[1] == 'l' and redis.call('ZCARD', w[2]) == 0 then redis.call('DEL', w[2]) end
  end
  if penalty then
    -- Times are kept in the script's clock (server TIME or the caller's), TTLs only clean up.
    local within = tonumber(ARGV[ab + 5])
    local v = redis.call('HMGET', KEYS[kb + 2], 'c', 'u')
    local count = tonumber(v[1]) or 0
    local countUntil = tonumber(v[2]) or 0
    if countUntil <= now then count = 0; countUntil = now + within end
    count = count + 1
    if count < tonumber(ARGV[ab + 4]) then
      redis.call('HSET', KEYS[kb + 2], 'c', count, 'u', countUntil)
      redis.call('PEXPIRE', KEYS[kb + 2], math.max(1, countUntil - now))
    else
      local levelReset = tonumber(ARGV[ab + 9])
      local l = redis.call('HMGET', KEYS[kb + 3], 'l', 'u')
      local level = tonumber(l[1]) or 0
      if (tonumber(l[2]) or 0) <= now then level = 0 end
      level = level + 1
      redis.call('HSET', KEYS[kb + 3], 'l', level, 'u', now + levelReset)
      redis.call('PEXPIRE', KEYS[kb + 3], levelReset)
      local blockMs = math.floor(math.min(tonumber(ARGV[ab + 6]) * tonumber(ARGV[ab + 7]) ^ (level - 1), tonumber(ARGV[ab + 8])))
      redis.call('SET', KEYS[kb + 1], now + blockMs, 'PX', blockMs)
      redis.call('DEL', KEYS[kb + 2])
      out[2] = blockMs
    end
  end
end
return out
end
local replies = {}
local kb, ab = 0, 2
for r = 1, tonumber(ARGV[2]) do
  local n = tonumber(ARGV[ab + 2])
  replies[r] = check(kb, ab)
  kb = kb + 3 + n
  ab = ab + 10 + 4 * n
end
return replies
`;

/**
 * The fast path for the common case: checks of one fixed-window limit without blocking, all with the
 * same cost, limit and window (the store groups a batch by them). The count of the window starting at
 * `ws` is the hash field `ws`, so an admitted check is one HINCRBY; the first check of a window also
 * drops the previous window's field (and the fields `w`/`c` of the layout before 0.2, carrying their
 * count) and sets the key to expire at the window's end. A rejected check takes its cost back.
 *
 * ARGV: 1 now in ms (-1: the server's TIME), 2 cost, 3 limit, 4 windowMs. KEYS: one per check.
 * Returns one integer per check, then the window's resetMs: `remaining` (>= 0) when admitted,
 * `-1 - remaining` when rejected (its retry-after is resetMs).
 */
export const fixedWindowScript = `
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cost = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local ws = now - (now % window)
local r = ws + window - now
-- Command arguments as strings, formatted once: Redis formats a Lua number argument on every call
-- (a third of this script's CPU). '%d' prints the same digits as Redis does for these integers.
local field = string.format('%d', ws)
local costArg = ARGV[2]
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local c = redis.call('HINCRBY', key, field, costArg)
  if c == cost then
    local old = redis.call('HMGET', key, 'w', 'c')
    if old[1] then
      if tonumber(old[1]) == ws then c = redis.call('HINCRBY', key, field, tonumber(old[2])) end
      redis.call('HDEL', key, 'w', 'c')
    end
    redis.call('HDEL', key, string.format('%d', ws - window))
    redis.call('PEXPIRE', key, string.format('%d', r))
  end
  if c <= limit then
    out[i] = limit - c
  else
    redis.call('HINCRBY', key, field, string.format('%d', -cost))
    out[i] = -1 - (limit - c + cost)
  end
end
out[#KEYS + 1] = r
return out
`;
