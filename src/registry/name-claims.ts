/**
 * Name claims: `<ns>:name:<name>` holds the token of the actor that owns the
 * name (`<address>|<system nonce>`), with the presence TTL. Each step is one
 * Lua script, so that two claimants never both win and nobody but the owner
 * (or a supervisor, for its dead child) takes a name away.
 */
import { Script, type Transport } from '../transport/index.js';
import type { Names } from '../wire/index.js';

/** KEYS[1] the claim; ARGV: token, ttl ms, the name's channel, stale after ms. Returns the holder or nil. */
const CLAIM = new Script(`local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then
  local subscribers = redis.call('PUBSUB', 'NUMSUB', ARGV[3])[2]
  local idle = tonumber(ARGV[2]) - redis.call('PTTL', KEYS[1])
  if subscribers > 0 or idle < tonumber(ARGV[4]) then return held end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`);

/** KEYS: claims; ARGV[1] token, ARGV[2] ttl ms. Extends the claims this token holds. */
const REFRESH = new Script(`for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]) end
end
return 0`);

/** KEYS: claims; ARGV[1] a token, or an address followed by '|' to release whatever that address held. */
const RELEASE = new Script(`local n = 0
for i, key in ipairs(KEYS) do
  local held = redis.call('GET', key)
  if held and (held == ARGV[1] or string.sub(held, 1, #ARGV[1]) == ARGV[1] and string.sub(ARGV[1], -1) == '|') then
    redis.call('DEL', key)
    n = n + 1
  end
end
return n`);

const keysOf = (names: Names, claimed: readonly string[]): string[] =>
  claimed.map((name) => names.key('name', name));

/**
 * Claims `name` for `token` unless a live owner holds it: alive while anything
 * subscribes the name's channel, or while it refreshed within `staleAfterMs`.
 * True when the claim is ours.
 */
export async function claimName(
  transport: Transport,
  names: Names,
  name: string,
  token: string,
  ttlMs: number,
  staleAfterMs: number,
): Promise<boolean> {
  const held = await CLAIM.run(transport, keysOf(names, [name]), [
    token,
    String(ttlMs),
    names.channel(name),
    String(staleAfterMs),
  ]);
  return held === null;
}

/** Extends the claims among `claimed` that `token` holds. */
export async function refreshClaims(
  transport: Transport,
  names: Names,
  claimed: readonly string[],
  token: string,
  ttlMs: number,
): Promise<void> {
  if (claimed.length === 0) return;
  await REFRESH.run(transport, keysOf(names, claimed), [token, String(ttlMs)]);
}

/**
 * Releases the claims among `claimed` held by `token`, or, with a token of
 * the form `<address>|`, those held by any system at that address.
 */
export async function releaseClaims(
  transport: Transport,
  names: Names,
  claimed: readonly string[],
  token: string,
): Promise<void> {
  if (claimed.length === 0) return;
  await RELEASE.run(transport, keysOf(names, claimed), [token]);
}

/** The address in a claim token `<address>|<system nonce>`. */
export function ownerOfToken(token: string): string | undefined {
  const bar = token.lastIndexOf('|');
  return bar > 0 ? token.slice(0, bar) : undefined;
}
