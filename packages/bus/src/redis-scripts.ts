/**
 * Lua scripts run atomically by Redis. `publish` is the heart of the Redis bus: it assigns the next number,
 * appends to the history, trims it and publishes on the live channel in one step, so history and channel can
 * never disagree on order.
 */

/** Server time in ms; scripts use Redis's clock so every replica's events age alike. */
const NOW = `
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`;

/**
 * Drops the oldest entries beyond the count, byte and age limits (entries are in seq order, so a prefix goes),
 * given the stream's entry count and retained bytes; returns the bytes retained afterwards and whether it dropped
 * any. Up to 20 000 entries per call, more than any default history holds.
 */
const TRIM = `
local function trim_counted(stream, count, bytes, maxEvents, maxAgeMs, maxBytes, now)
  if count == 0 then return bytes, false end
  local oldestKeptMs = now - maxAgeMs
  local lastDropped = nil
  local from = '-'
  -- Read no more than the count cap requires at first: at the cap that is the one entry to drop and the next
  -- (to check its age); larger batches only while age or bytes keep dropping entries.
  local batchSize = math.max(1, math.min(200, count - maxEvents + 1))
  for _ = 1, 100 do
    local batch = redis.call('XRANGE', stream, from, '+', 'COUNT', batchSize)
    batchSize = 200
    if #batch == 0 then break end
    local keep = false
    for _, entry in ipairs(batch) do
      local f = entry[2]
      if count <= maxEvents and bytes <= maxBytes and tonumber(f[4]) > oldestKeptMs then keep = true break end
      count = count - 1
      bytes = bytes - #f[2]
      lastDropped = tonumber(string.match(entry[1], '^(%d+)'))
    end
    if keep then break end
    from = '(' .. batch[#batch][1]
  end
  if not lastDropped then return bytes, false end
  redis.call('XTRIM', stream, 'MINID', (lastDropped + 1) .. '-0')
  return math.max(bytes, 0), true
end

local function trim(meta, stream, maxEvents, maxAgeMs, maxBytes, now)
  local count = redis.call('XLEN', stream)
  if count == 0 then return end
  local bytes, dropped = trim_counted(stream, count, tonumber(redis.call('HGET', meta, 'bytes') or '0'), maxEvents, maxAgeMs, maxBytes, now)
  if dropped then redis.call('HSET', meta, 'bytes', bytes) end
end
`;

/**
 * Stores and publishes a batch of one bot's events, in order, as if each had been published alone (the ingress
 * gathers those that arrive in one turn of its event loop: one call instead of one per event).
 * KEYS: meta, stream, then one eventId key per event (meta again for an event without an id)
 * ARGV: 1 maxEvents, 2 maxAgeMs, 3 maxBytes, 4 dedupMs, 5 metaTtlMs, 6 channel, 7 epochIfNew,
 *       8 publish command (PUBLISH, or SPUBLISH on a Cluster: the channel is hash-tagged into this slot),
 *       9 '1' when a WAIT follows (the script then does not publish: the caller does, after the WAIT; a duplicate
 *         writes too, so that WAIT also covers the original write, and returns the original's epoch, seq and body),
 *       10 REDIS_MIN_REPLICAS_ACKED (a master with fewer online replicas refuses before writing or publishing anything),
 *       then per event: its eventId ('' = none) and its body.
 * Returns {'noreplicas', onlineReplicas}, or {'published', reply per event} where each reply is {'accepted', epoch,
 * seq}, {'duplicate'} or (when a WAIT follows) {'duplicate', epoch, seq, body}.
 */
export const PUBLISH_LUA = `${NOW}${TRIM}${replicasLua()}
local meta, stream = KEYS[1], KEYS[2]
-- Before anything is written: an old master restarted empty mid-failover would otherwise start a throw-away
-- numbering and publish events that the real master accepts again on the platform's retry (clients: twice).
local problem = replication_problem(tonumber(ARGV[10]))
if problem == 'replica' then return redis.error_reply(READONLY) end
if problem then return {'noreplicas', problem} end
local maxEvents, maxAgeMs, maxBytes = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local dedupMs, metaTtlMs = tonumber(ARGV[4]), tonumber(ARGV[5])
local waiting = ARGV[9] == '1'
local now = now_ms()

-- One read of meta and one write at the end: seq and bytes are counted here, not with HINCRBY.
local state = redis.call('HMGET', meta, 'epoch', 'seq', 'bytes')
local epoch = state[1]
local seq, bytes = tonumber(state[2] or '0'), tonumber(state[3] or '0')
if not epoch then
  epoch = ARGV[7]
  seq, bytes = 0, 0
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'epoch', epoch, 'dseq', 0)
end
-- A stream that expired (or was emptied) holds no bytes.
local count = redis.call('XLEN', stream)
if count == 0 then bytes = 0 end

local replies = {'published'}
local added = 0
for i = 1, #KEYS - 2 do
  local idKey, eventId, body = KEYS[i + 2], ARGV[9 + 2 * i], ARGV[10 + 2 * i]
  local reply, seen = nil, nil
  if eventId ~= '' then
    -- An id stored earlier in this batch is seen here too: a retry that arrived beside its original is a duplicate.
    -- Most ids are new: SET NX stores this event's claim on it in the same command that asks (each call from a script
    -- costs more than the command it runs); only an id already there is read, and taken over below if stale.
    if not redis.call('SET', idKey, epoch .. '|' .. (seq + 1) .. '|' .. (now + dedupMs), 'PX', math.max(dedupMs, maxAgeMs), 'NX') then
      seen = redis.call('GET', idKey)
    end
    if seen then
      local e, s, untilMs = string.match(seen, '^(.*)|(%d+)|(%d+)$')
      if e == epoch and tonumber(untilMs) > now then
        reply = {'duplicate'}
        if waiting then
          -- The original may never have been announced (its WAIT fell short): its stored bytes go back to the caller,
          -- which announces them once this WAIT confirms (gateways drop a number they already passed on).
          local entry = redis.call('XRANGE', stream, s .. '-0', s .. '-0')
          if #entry == 1 then reply = {'duplicate', e, tonumber(s), entry[1][2][2]} end
        end
      end
    end
  end
  if not reply then
    seq = seq + 1
    added = added + 1
    bytes = bytes + #body
    redis.call('XADD', stream, seq .. '-0', 'b', body, 't', now, 'i', eventId)
    if seen then
      -- An id from another numbering or past its window: this event takes it over.
      redis.call('SET', idKey, epoch .. '|' .. seq .. '|' .. (now + dedupMs), 'PX', math.max(dedupMs, maxAgeMs))
    end
    -- With a WAIT to follow, the caller announces the event only once replicas hold it: a client must never see an
    -- event that a failover can take back (the promoted replica would number the next event the same).
    if not waiting then
      -- The header decodeChannelMessage reads, built by hand rather than with a cjson table per event: the epoch is
      -- base64url and seq a number, so only an id with a quote, backslash or control byte needs cjson's escaping.
      local header = '{"v":1,"epoch":"' .. epoch .. '","seq":' .. seq
      if eventId == '' then header = header .. '}'
      elseif string.find(eventId, '[%c"\\\\]') then header = header .. ',"id":' .. cjson.encode(eventId) .. '}'
      else header = header .. ',"id":"' .. eventId .. '"}' end
      redis.call(ARGV[8], ARGV[6], header .. '\\n' .. body)
    end
    reply = {'accepted', epoch, seq}
  end
  replies[#replies + 1] = reply
end

if added > 0 then
  bytes = trim_counted(stream, count + added, bytes, maxEvents, maxAgeMs, maxBytes, now)
  redis.call('HSET', meta, 'seq', seq, 'bytes', bytes)
  redis.call('PEXPIRE', stream, maxAgeMs)
end
-- A duplicate refreshes the numbering's lifetime too (and, with a WAIT to follow, writes something it covers).
redis.call('PEXPIRE', meta, metaTtlMs)
return replies
`;

/**
 * One page of history. KEYS: meta, stream. ARGV: afterSeq, count, maxEvents, maxAgeMs, maxBytes, replicas wanted
 * (a master with fewer online replicas answers NOREPLICAS; '0': no check). Trims first (so entries that aged since the last publish go), then returns
 * {epoch or '', headSeq, lastSeqRead, entries…} with entries {seq, body, acceptedAtMs, eventId}; `lastSeqRead` is
 * where the next page starts even if some entries of this one were too old to return.
 */
export const HISTORY_PAGE_LUA = `${NOW}${TRIM}${replicasLua()}
local refused = refuse_reads_unless_replicated(tonumber(ARGV[6]))
if refused then return refused end
local now = now_ms()
local maxAgeMs = tonumber(ARGV[4])
trim(KEYS[1], KEYS[2], tonumber(ARGV[3]), maxAgeMs, tonumber(ARGV[5]), now)
local epoch = redis.call('HGET', KEYS[1], 'epoch') or ''
local head = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local oldestKeptMs = now - maxAgeMs
local entries = redis.call('XRANGE', KEYS[2], (tonumber(ARGV[1]) + 1) .. '-0', '+', 'COUNT', tonumber(ARGV[2]))
local lastRead = tonumber(ARGV[1])
local out = {epoch, head, 0}
for _, entry in ipairs(entries) do
  local f = entry[2]
  lastRead = tonumber(string.match(entry[1], '^(%d+)'))
  if tonumber(f[4]) > oldestKeptMs then
    table.insert(out, {lastRead, f[2], tonumber(f[4]), f[6]})
  end
end
out[3] = (#entries == tonumber(ARGV[2])) and lastRead or -1
return out
`;

/**
 * KEYS: meta, eventId key, stream. ARGV: maxAgeMs, replicas wanted (as in HISTORY_PAGE_LUA). Returns {epoch, seq} of
 * a retained event, or nil.
 */
export const LOCATE_LUA = `${NOW}${replicasLua()}
local refused = refuse_reads_unless_replicated(tonumber(ARGV[2]))
if refused then return refused end
local seen = redis.call('GET', KEYS[2])
if not seen then return nil end
local e, s = string.match(seen, '^(.*)|(%d+)|%d+$')
if e ~= redis.call('HGET', KEYS[1], 'epoch') then return nil end
local entry = redis.call('XRANGE', KEYS[3], s .. '-0', s .. '-0')[1]
if not entry then return nil end
if tonumber(entry[2][4]) <= now_ms() - tonumber(ARGV[1]) then return nil end
return {e, tonumber(s)}
`;

/** KEYS: meta. ARGV: replicas wanted (as in HISTORY_PAGE_LUA). Returns {epoch or false, seq or false, dseq or false}. */
export const POSITIONS_LUA = `${replicasLua()}
local refused = refuse_reads_unless_replicated(tonumber(ARGV[1]))
if refused then return refused end
return redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'dseq')
`;

/** KEYS: meta. ARGV: epoch, seq. Raises the delivered mark when the epoch is current and seq is higher. */
export const MARK_DELIVERED_LUA = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'dseq') or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'dseq', ARGV[2])
return 1
`;

/**
 * REDIS_MIN_REPLICAS_ACKED inside the scripts: may this node serve, or what stands in the way? A master restarted
 * empty during a Sentinel failover (the sentinels still name it until they switch) has no online replicas: what it
 * would store cannot be confirmed, and what it answers is not the stream. A connection that reached it then and
 * stayed while the sentinels made it a replica gets READONLY, which makes the client reconnect through the
 * sentinels (RedisConnection.followSentinels) instead of being refused for good. `wanted` 0 asks nothing (no
 * INFO call).
 */
function replicasLua(): string {
  return `
local READONLY = 'READONLY this node is a replica now (REDIS_MIN_REPLICAS_ACKED)'
-- nil when this node may serve; else 'replica', or the number of online replicas when fewer than wanted.
local function replication_problem(wanted)
  if wanted <= 0 then return nil end
  local info = redis.call('INFO', 'replication')
  if string.find(info, 'role:slave', 1, true) then return 'replica' end
  local online = 0
  for _ in string.gmatch(info, 'state=online') do online = online + 1 end
  if online < wanted then return online end
  return nil
end
local function refuse_reads_unless_replicated(wanted)
  local problem = replication_problem(wanted)
  if problem == 'replica' then return redis.error_reply(READONLY) end
  if problem then
    return redis.error_reply('NOREPLICAS this master has fewer online replicas than REDIS_MIN_REPLICAS_ACKED')
  end
end
`;
}
