/**
 * The Lua scripts of durable mailboxes (docs/PROTOCOL.md, "Durable
 * mailboxes"). Every script touches the keys of one mailbox only, which share
 * the hash tag `{<name>}` (one Redis Cluster slot). Entries are read inside a
 * script so that an entry too large or malformed (anyone may XADD) never
 * reaches this process: it goes to the dead letters with the reason, without
 * its content when that is too large.
 */
import { Script } from '../transport/index.js';

/**
 * Shared by the scripts that hand entries out. `entry_of(fields, max)`: the
 * payload (field `m`), or nil and why not. `bury(...)`: moves an entry to the
 * dead letters (stream KEYS[2], at most ARGV cap entries, the oldest going
 * first) and acknowledges and deletes it.
 */
const PRELUDE = `
local function entry_of(fields, max)
  local payload, size = nil, 0
  for i = 1, #fields, 2 do
    size = size + #fields[i] + #(fields[i + 1] or '')
    if fields[i] == 'm' then payload = fields[i + 1] end
  end
  if payload == nil then return nil, 'no-payload' end
  if size > max then return nil, 'oversized' end
  return payload, nil
end
local function bury(stream, dead, group, id, payload, why, deliveries, consumer, cap, now)
  local fields = {'entry', id, 'error', why, 'deliveries', tostring(deliveries), 'consumer', consumer, 'at', now}
  if payload ~= nil then table.insert(fields, 'm'); table.insert(fields, payload) end
  redis.call('XADD', dead, 'MAXLEN', '~', cap, '*', unpack(fields))
  redis.call('XACK', stream, group, id)
  redis.call('XDEL', stream, id)
end
`;

/**
 * KEYS[1] config hash, KEYS[2] stream. ARGV: [1] group, [2] capacity,
 * [3] overflow, [4] maxDeliveries, [5] pool ('1' or '0'). Creates the stream
 * with its group (once) and writes the settings senders read. Returns 'ok',
 * or 'pool:<0|1>' when the mailbox exists in the other mode.
 */
export const DECLARE = new Script(`
local held = redis.call('HGET', KEYS[1], 'pool')
if held and held ~= ARGV[5] then return 'pool:' .. held end
local created = redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP', 1, true) then
  return created
end
redis.call('HSET', KEYS[1], 'capacity', ARGV[2], 'overflow', ARGV[3], 'maxDeliveries', ARGV[4], 'pool', ARGV[5])
return 'ok'`);

/** Most wake-up tokens waiting at once: one per reader that is to wake (a pool's members). */
export const MAX_WAKE_TOKENS = 64;

/**
 * KEYS[1] config hash, KEYS[2] stream, KEYS[3] wake list. ARGV the payloads
 * of one sender's turn. Appends those that fit the capacity and wakes as
 * many readers. Returns nil when no durable mailbox has that name, else
 * `{overflow policy, capacity, {entry id, or 0 when full, per payload}}`.
 */
export const APPEND = new Script(`
local settings = redis.call('HMGET', KEYS[1], 'capacity', 'overflow')
local capacity = tonumber(settings[1])
if not capacity then return false end
local room = capacity - redis.call('XLEN', KEYS[2])
local ids = {}
for i = 1, #ARGV do
  if i > room then ids[i] = 0 else ids[i] = redis.call('XADD', KEYS[2], '*', 'm', ARGV[i]) end
end
local wake = math.min(room, #ARGV, ${MAX_WAKE_TOKENS} - redis.call('LLEN', KEYS[3]))
if wake > 0 then
  local tokens = {}
  for i = 1, wake do tokens[i] = '1' end
  redis.call('LPUSH', KEYS[3], unpack(tokens))
end
return {settings[2] or 'reject', tostring(capacity), ids}`);

/**
 * KEYS[1] stream, KEYS[2] dead letters, KEYS[3] wake list. ARGV: [1] group,
 * [2] consumer, [3] count, [4] max entry bytes, [5] dead-letter cap, [6] now.
 * Takes up to `count` new entries for the consumer. Returns `{id, payload}`
 * for each entry handed out (refused ones are buried). When the stream is
 * drained the wake list is emptied, so that readers do not wake for entries
 * already taken.
 */
export const READ = new Script(`${PRELUDE}
local got = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if not got then
  redis.call('DEL', KEYS[3])
  return {}
end
local entries = got[1][2]
if #entries < tonumber(ARGV[3]) then redis.call('DEL', KEYS[3]) end
local out = {}
for _, entry in ipairs(entries) do
  local payload, why = entry_of(entry[2] or {}, tonumber(ARGV[4]))
  if payload == nil then
    bury(KEYS[1], KEYS[2], ARGV[1], entry[1], nil, why, 1, ARGV[2], ARGV[5], ARGV[6])
  else
    table.insert(out, {entry[1], payload})
  end
end
return out`);

/**
 * KEYS[1] stream, KEYS[2] dead letters. ARGV: [1] group, [2] the consumer
 * taking them, [3] the consumer they are taken from ('' for any whose entry
 * is idle for at least ARGV[4] ms), [4] min idle ms, [5] count,
 * [6] maxDeliveries, [7] max entry bytes, [8] dead-letter cap, [9] now,
 * [10] the error a buried entry is given, [11] an entry id to take alone
 * ('' for any). Takes pending entries over (XCLAIM counts a delivery);
 * entries delivered `maxDeliveries` times already are buried instead.
 * Returns `{id, payload, deliveries}` for each taken. A consumer emptied
 * this way is deleted from the group.
 */
export const CLAIM = new Script(`${PRELUDE}
local pending
if ARGV[11] ~= '' then
  pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[11], ARGV[11], 1)
  if pending[1] and pending[1][2] ~= ARGV[3] then return {} end
elseif ARGV[3] ~= '' then
  pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', ARGV[5], ARGV[3])
else
  pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[4], '-', '+', ARGV[5])
end
local out = {}
for _, p in ipairs(pending) do
  local id, owner, deliveries = p[1], p[2], p[4]
  if owner ~= ARGV[2] or ARGV[11] ~= '' then
    local found = redis.call('XRANGE', KEYS[1], id, id)[1]
    if not found then
      redis.call('XACK', KEYS[1], ARGV[1], id)
    else
      local payload, why = entry_of(found[2] or {}, tonumber(ARGV[7]))
      if payload == nil then
        bury(KEYS[1], KEYS[2], ARGV[1], id, nil, why, deliveries, owner, ARGV[8], ARGV[9])
      elseif deliveries >= tonumber(ARGV[6]) then
        bury(KEYS[1], KEYS[2], ARGV[1], id, payload, ARGV[10], deliveries, owner, ARGV[8], ARGV[9])
      else
        -- JUSTID would leave the count alone: RETRYCOUNT counts this delivery.
        redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'RETRYCOUNT', deliveries + 1, 'JUSTID')
        table.insert(out, {id, payload, deliveries + 1})
      end
    end
  end
end
if ARGV[3] ~= '' and ARGV[3] ~= ARGV[2] and ARGV[11] == '' and #pending < tonumber(ARGV[5]) then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[3])
end
return out`);

/**
 * KEYS[1] stream, KEYS[2] dead letters. ARGV: [1] group, [2] consumer,
 * [3] entry id, [4] error, [5] deliveries, [6] dead-letter cap, [7] now,
 * [8] max entry bytes. Buries one entry the consumer holds (a message no
 * retry can help: unknown type, undecodable). Returns 1 when buried.
 */
export const BURY = new Script(`${PRELUDE}
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)[1]
if not p or p[2] ~= ARGV[2] then return 0 end
local found = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])[1]
local payload = nil
if found then payload = entry_of(found[2] or {}, tonumber(ARGV[8])) end
bury(KEYS[1], KEYS[2], ARGV[1], ARGV[3], payload, ARGV[4], ARGV[5], ARGV[2], ARGV[6], ARGV[7])
return 1`);
