-- Fallback copy of hearthd's commit script (daemon/store.c, commit_lua), used by
-- tests/bench/run.sh only when it cannot extract the script from daemon/store.c.
local h, outbox = KEYS[1], KEYS[2]
local cur = redis.call('GETRANGE', h, 0, 11)
redis.call('HLEN', outbox)
local v = 0
if cur ~= '' then v = tonumber(cur) end
if v == nil then return {'FORMAT', 'not a household record'} end
if v ~= tonumber(ARGV[1]) then return {'VERSION', tostring(v)} end
redis.call('SET', h, ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', outbox, ARGV[i], ARGV[i + 1]) end
return {'OK', tostring(v + 1)}
