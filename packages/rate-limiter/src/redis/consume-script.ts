/**
 * One round trip per check: the whole decision for every limit of a request, the all-or-nothing
 * write and the violation/block bookkeeping run in one Lua script. It mirrors src/algorithms/*.ts.
 * Several checks issued in the same tick go out as one script call (one round trip for all).
 *
 * ARGV: 1 now in ms (-1: use the server's TIME), 2 number of checks, then per check: cost, limit
 *       count n, penalty (0/1), violations, withinMs, blockMs, multiplier, maxBlockMs, levelResetMs,
 *       nonce, then 4 per limit: algorithm code (f s l g k), limit, windowMs, maxWaitMs.
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
    local ws = now - (now % window)
    local st = redis.call('HMGET', key, 'w', 'c')
    local c = 0
    if tonumber(st[1]) == ws then c = tonumber(st[2]) end
    local r = ws + window - now
    ok = c + cost <= limit
    if ok then remaining = limit - c - cost else remaining = limit - c end
    reset = r
    if c == 0 and not ok then reset = 0 end
    if not ok then retry = r end
    writes[i] = {'f', key, ws, c + cost, r}
  elseif algo == 's' then
    local ws = now - (now % window)
    local st = redis.call('HMGET', key, 'w', 'c', 'p')
    local w0 = tonumber(st[1])
    local c, p = 0, 0
    if w0 == ws then
      c = tonumber(st[2]); p = tonumber(st[3])
    elseif w0 == ws - window then
      p = tonumber(st[2])
    end
    local elapsed = now - ws
    local est = (p * (window - elapsed)) / window + c
    ok = est + cost <= limit
    if not ok then
      if c + cost <= limit then
        retry = ceil(window * (1 - (limit - c - cost) / p) - elapsed)
      elseif cost <= limit then
        retry = ceil(window - elapsed + window * (1 - (limit - cost) / c))
      else
        retry = window * 2
      end
      if retry < 1 then retry = 1 end
    end
    local used = est
    local cur = c
    if ok then used = est + cost; cur = c + cost end
    remaining = math.floor(limit - used)
    if remaining < 0 then remaining = 0 end
    if cur > 0 then reset = 2 * window - elapsed elseif p > 0 then reset = window - elapsed else reset = 0 end
    writes[i] = {'s', key, ws, c + cost, p, 2 * window - elapsed}
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
      redis.call('HSET', w[2], 'w', w[3], 'c', w[4])
      redis.call('PEXPIRE', w[2], math.max(1, w[5]))
    elseif w[1] == 's' then
      redis.call('HSET', w[2], 'w', w[3], 'c', w[4], 'p', w[5])
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
    if oks[i] then
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
 * The fast path for the common case: checks of one fixed-window limit without blocking. The same
 * state as `consumeScript` (a hash `w` window start, `c` count) and the same reply, with less work:
 * no per-check tables or closures, three ARGV per check, and a same-window write is one HINCRBY
 * (the key already expires at the end of its window), so PEXPIRE runs only for a new window.
 *
 * ARGV: 1 now in ms (-1: the server's TIME), 2 number of checks, then per check: cost, limit, windowMs.
 * KEYS: one per check (the limit's key).
 * Returns one flat array, 4 per check: allowed 0/1, remaining, resetMs, retryAfterMs.
 */
export const fixedWindowScript = `
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local out = {}
local o = 0
for i = 1, tonumber(ARGV[2]) do
  local a = i * 3
  local cost = tonumber(ARGV[a])
  local limit = tonumber(ARGV[a + 1])
  local window = tonumber(ARGV[a + 2])
  local key = KEYS[i]
  local ws = now - (now % window)
  local st = redis.call('HMGET', key, 'w', 'c')
  local same = tonumber(st[1]) == ws
  local c = 0
  if same then c = tonumber(st[2]) end
  local r = ws + window - now
  if c + cost <= limit then
    if same then
      redis.call('HINCRBY', key, 'c', cost)
    else
      redis.call('HSET', key, 'w', ws, 'c', cost)
      redis.call('PEXPIRE', key, r)
    end
    out[o + 1] = 1; out[o + 2] = limit - c - cost; out[o + 3] = r; out[o + 4] = 0
  else
    out[o + 1] = 0; out[o + 2] = limit - c; out[o + 3] = r; out[o + 4] = r
    if c == 0 then out[o + 3] = 0 end
  end
  o = o + 4
end
return out
`;
