-- Fallback copy of hearthd's commit script (daemon/store.c, commit_lua), used by
-- tests/bench/run.sh only when it cannot extract the script from daemon/store.c.
local h, seen, outbox, ledger, timeline = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local v = tonumber(redis.call('HGET', h, 'v') or '0')
redis.call('ZCARD', seen)
redis.call('HLEN', outbox)
redis.call('LLEN', ledger)
redis.call('LLEN', timeline)
if v ~= tonumber(ARGV[1]) then return {'VERSION', tostring(v)} end
local i = 9
local n_off = tonumber(ARGV[i]); i = i + 1
local off_at = i
for k = 1, n_off do
  local cur = redis.call('HGET', h, ARGV[i])
  if cur and tonumber(cur) >= tonumber(ARGV[i + 1]) then return {'OFFSET', ARGV[i]} end
  i = i + 2
end
local n_seen = tonumber(ARGV[i]); i = i + 1
local seen_at = i
for k = 1, n_seen do
  if redis.call('ZSCORE', seen, ARGV[i]) then return {'DUP', ARGV[i]} end
  i = i + 1
end
local now = tonumber(ARGV[3])
redis.call('HSET', h, 'v', v + 1, 'doc', ARGV[2])
for k = 0, n_off - 1 do
  redis.call('HSET', h, ARGV[off_at + 2 * k], ARGV[off_at + 2 * k + 1])
end
for k = 0, n_seen - 1 do redis.call('ZADD', seen, now, ARGV[seen_at + k]) end
if n_seen > 0 then
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. (now - tonumber(ARGV[4])))
  local over = redis.call('ZCARD', seen) - tonumber(ARGV[5])
  if over > 0 then redis.call('ZREMRANGEBYRANK', seen, 0, over - 1) end
end
local n_out = tonumber(ARGV[i]); i = i + 1
for k = 1, n_out do redis.call('HSET', outbox, ARGV[i], ARGV[i + 1]); i = i + 2 end
local n_led = tonumber(ARGV[i]); i = i + 1
for k = 1, n_led do redis.call('RPUSH', ledger, ARGV[i]); i = i + 1 end
if n_led > 0 then redis.call('LTRIM', ledger, -tonumber(ARGV[6]), -1) end
local n_tl = tonumber(ARGV[i]); i = i + 1
for k = 1, n_tl do redis.call('LPUSH', timeline, ARGV[i]); i = i + 1 end
if n_tl > 0 then redis.call('LTRIM', timeline, 0, tonumber(ARGV[8]) - 1) end
if ARGV[7] == '1' then redis.call('DEL', ledger, timeline) end
return {'OK', tostring(v + 1)}
