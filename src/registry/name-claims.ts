/**
 * Name claims: `<ns>:name:<name>` holds the token of the actor that owns the
 * name (`<address>|<system nonce>`), with the presence TTL. Each step is one
 * Lua script, so that two claimants never both win and nobody but the owner
 * (or a supervisor, for its dead child) takes a name away.
 *
 * A released claim is not deleted: for the presence TTL it holds `:` and the
 * token (no address starts with `:`), free for anyone to claim, and telling
 * who gave the name up, so that replies its owner sent while stopping count.
 */
import { Script, type Transport } from '../transport/index.js';
import type { Names } from '../wire/index.js';

/** KEYS[1] the claim; ARGV: token, ttl ms, the name's channel, stale after ms. Returns 1 when held, or nil. */
const CLAIM = new Script(`local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] and string.sub(held, 1, 1) ~= ':' then
  local subscribers = redis.call('PUBSUB', 'NUMSUB', ARGV[3])[2]
  local idle = tonumber(ARGV[2]) - redis.call('PTTL', KEYS[1])
  if subscribers > 0 or idle < tonumber(ARGV[4]) then return 1 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`);

/** KEYS: claims; ARGV[1] token, ARGV[2] ttl ms. Extends the claims this token holds. */
const REFRESH = new Script(`for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]) end
end
return 0`);

/**
 * KEYS: claims; ARGV[1] a token, or '|' and a nonce to release what any
 * address of that system held; ARGV[2] how long the release is remembered (ms).
 */
const RELEASE = new Script(`local n = 0
for i, key in ipairs(KEYS) do
  local held = redis.call('GET', key)
  if held and string.sub(held, 1, 1) ~= ':' and (held == ARGV[1] or string.sub(ARGV[1], 1, 1) == '|' and string.sub(held, -#ARGV[1]) == ARGV[1]) then
    redis.call('SET', key, ':' .. held, 'PX', ARGV[2])
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
 * the form `|<nonce>`, those held by the system of that nonce at any address.
 */
export async function releaseClaims(
  transport: Transport,
  names: Names,
  claimed: readonly string[],
  token: string,
  rememberedMs: number,
): Promise<void> {
  if (claimed.length === 0) return;
  await RELEASE.run(transport, keysOf(names, claimed), [token, String(rememberedMs)]);
}

/**
 * A genuine claim value is well under this (an address of at most 200
 * characters, `|`, a nonce); longer ones, a stranger's, are read cut here.
 */
export const MAX_CLAIM_BYTES = 512;

/** The address in a claim token `<address>|<system nonce>`. */
export function ownerOfToken(token: string): string | undefined {
  const bar = token.lastIndexOf('|');
  return bar > 0 ? token.slice(0, bar) : undefined;
}

/** Who holds a name now, or who gave it up lately (read from its claim's value). */
export interface ClaimState {
  owner: string | undefined;
  releasedBy: string | undefined;
}

/** The state of a claim from its stored value (`undefined`: never claimed, or long released). */
export function claimState(value: string | undefined): ClaimState {
  if (value === undefined) return { owner: undefined, releasedBy: undefined };
  if (value.startsWith(':')) return { owner: undefined, releasedBy: ownerOfToken(value.slice(1)) };
  return { owner: ownerOfToken(value), releasedBy: undefined };
}
