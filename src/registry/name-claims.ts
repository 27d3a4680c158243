/**
 * Claims of names and process addresses: `<ns>:name:{<name or address>}` holds
 * the token of its owner, `<owner's address>|<system nonce>`.
 *
 * - A process address is claimed by the process itself (`<address>|<nonce>`),
 *   with the presence TTL, refreshed every presence interval by its owner only:
 *   while the claim holds that token, the process counts as live.
 * - A name is claimed for one actor (`<actor address>|<nonce>`) with a long
 *   TTL (KEPT_MS, renewed by the owner's process after half of it: garbage
 *   collection, not liveness). It counts while the owner's process holds its
 *   own address claim with the same nonce: a name needs no refresh of its own,
 *   and is free again once its process is gone.
 *
 * Claiming is the Lua script CLAIM on the one claim key. When the claim is held
 * for an actor of some process, whether that process is live is another
 * object's state: the caller reads it here, and runs the script again with the
 * value it checked, which the key must still hold (compare and set), so of
 * several simultaneous claimants exactly one wins. Every script touches the
 * keys of one object only (`{<name or address>}`).
 *
 * A released claim is not deleted: for the presence TTL it holds `:` and the
 * token (no address starts with `:`), free for anyone to claim, and telling
 * who gave the name up, so that replies its owner sent while stopping count.
 */
import { Script, type Transport } from '../transport/index.js';
import type { Names } from '../wire/index.js';

/**
 * How long a name claim, a process's actor entries and its place in the
 * process index are kept without renewal (a day): what a process that died
 * without a clean stop, a supervisor or a successor leaves in Redis at most.
 * Renewed after half of it, so that nothing live ever expires.
 */
export const KEPT_MS = 86_400_000;

/**
 * A genuine claim value is well under this (an address of at most 200
 * characters, `|`, a nonce); longer ones, a stranger's, are read cut here.
 */
export const MAX_CLAIM_BYTES = 512;

/**
 * KEYS[1] the claim, KEYS[2] the actor entries of the process at that address.
 * ARGV: [1] token, [2] PX ms, [3] the channel of the name or address claimed
 * (`<ns>:<claimed>`), [4] the PTTL above which an address claim counts as
 * refreshed lately, [5] the held value the caller checked ('' at first). An
 * address claim (the token's own address is the one claimed) taking the key
 * over clears KEYS[2]. Returns nil when the claim is ours, 1 when a live owner
 * holds it, or the value held for an actor whose process the caller must
 * check first. (At most 10 arguments in all: Redis takes no more from a client
 * that has not authenticated yet, and this is the first command a process sends.)
 */
const CLAIM = new Script(`local held = redis.call('GETRANGE', KEYS[1], 0, ${MAX_CLAIM_BYTES})
local claimed = string.match(ARGV[3], '^[^:]*:(.*)$')
if held ~= '' and held ~= ARGV[1] and string.sub(held, 1, 1) ~= ':' then
  local owner = string.match(held, '^(.+)|[^|]*$')
  if held == ARGV[5] then
    if redis.call('PUBSUB', 'NUMSUB', ARGV[3])[2] > 0 then return 1 end
  elseif owner and owner ~= claimed then
    return held
  elseif redis.call('PUBSUB', 'NUMSUB', ARGV[3])[2] > 0 or redis.call('PTTL', KEYS[1]) > tonumber(ARGV[4]) then
    return 1
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if held ~= ARGV[1] and string.match(ARGV[1], '^(.+)|[^|]*$') == claimed then redis.call('DEL', KEYS[2]) end
return false`);

/** KEYS[1] a process's address claim; ARGV[1] its token, ARGV[2] ttl ms. Returns 1 while the token holds it. */
const REFRESH =
  new Script(`if redis.call('GETRANGE', KEYS[1], 0, ${MAX_CLAIM_BYTES}) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`);

/**
 * KEYS[1] a claim, KEYS[2] the actor entries of the process at that address;
 * ARGV[1] a token, or '|' and a nonce to release what any address of that
 * system held; ARGV[2] how long the release is remembered (ms); ARGV[3] the
 * name or address. A released process address takes its actor entries along.
 */
const RELEASE = new Script(`local held = redis.call('GETRANGE', KEYS[1], 0, ${MAX_CLAIM_BYTES})
if held == '' or string.sub(held, 1, 1) == ':' then return 0 end
if held ~= ARGV[1] and not (string.sub(ARGV[1], 1, 1) == '|' and string.sub(held, -#ARGV[1]) == ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ':' .. held, 'PX', ARGV[2])
if string.sub(held, 1, #ARGV[3] + 1) == ARGV[3] .. '|' then redis.call('DEL', KEYS[2]) end
return 1`);

/** Most rounds of CLAIM for one name: each lost race means another claimant won. */
const MAX_ROUNDS = 8;

/** How claims are timed: what the claimant assumes of every process of the namespace. */
export interface ClaimTiming {
  /** The presence TTL: how long a process's address claim lives without refresh. */
  ttlMs: number;
  /** An owner whose process refreshed its claim longer ago than this is stale. */
  staleAfterMs: number;
}

/** The address of the process an actor address belongs to (`<process>` or `<process>/<name>`). */
export function processOf(address: string): string {
  const slash = address.indexOf('/');
  return slash < 0 ? address : address.slice(0, slash);
}

/** The address in a claim token `<address>|<system nonce>`. */
export function ownerOfToken(token: string): string | undefined {
  const bar = token.lastIndexOf('|');
  return bar > 0 ? token.slice(0, bar) : undefined;
}

/** The nonce in a claim token `<address>|<system nonce>`. */
export function nonceOfToken(token: string): string {
  return token.slice(token.lastIndexOf('|') + 1);
}

/** A claim's value, at most MAX_CLAIM_BYTES of it (`''` when there is none). */
export async function readClaim(transport: Transport, key: string): Promise<string> {
  const held = await transport.command(['GETRANGE', key, '0', String(MAX_CLAIM_BYTES)]);
  return Buffer.isBuffer(held) ? held.toString() : '';
}

/**
 * Claims `claimed` (a name, or with `isAddress` a process address) for
 * `token` unless a live owner holds it: the address's own process while its
 * mailbox is subscribed or it refreshed its claim lately; a name's owner while
 * its process is live so, or while anything subscribes the name's channel.
 * True when the claim is ours.
 */
export async function claim(
  transport: Transport,
  names: Names,
  claimed: string,
  token: string,
  timing: ClaimTiming,
  isAddress: boolean,
): Promise<boolean> {
  const keys = [names.objectKey('name', claimed), names.objectKey('actors', claimed)];
  let checked = '';
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const reply = await CLAIM.run(transport, keys, [
      token,
      String(isAddress ? timing.ttlMs : KEPT_MS),
      names.channel(claimed),
      String(timing.ttlMs - timing.staleAfterMs),
      checked,
    ]);
    if (reply === null) return true;
    if (!Buffer.isBuffer(reply)) return false;
    checked = reply.toString();
    if (await processIsLive(transport, names, checked, timing)) return false;
  }
  return false;
}

/**
 * Whether the process of the actor holding `held` (a claim token) is live: its
 * address claim holds its token (same nonce), refreshed within `staleAfterMs`.
 */
export async function processIsLive(
  transport: Transport,
  names: Names,
  held: string,
  { ttlMs, staleAfterMs }: ClaimTiming,
): Promise<boolean> {
  const owner = ownerOfToken(held);
  if (owner === undefined) return false;
  const process = processOf(owner);
  const key = names.objectKey('name', process);
  const [value, pttl] = await Promise.all([
    readClaim(transport, key),
    transport.command(['PTTL', key]),
  ]);
  return value === `${process}|${nonceOfToken(held)}` && ttlMs - Number(pttl) < staleAfterMs;
}

/** Extends a process's address claim while `token` holds it; false when it no longer does. */
export async function refreshAddress(
  transport: Transport,
  names: Names,
  address: string,
  token: string,
  ttlMs: number,
): Promise<boolean> {
  const held = await REFRESH.run(
    transport,
    [names.objectKey('name', address)],
    [token, String(ttlMs)],
  );
  return held === 1;
}

/**
 * Releases the claim on `claimed` if `token` holds it, or, with a token of the
 * form `|<nonce>`, if the system of that nonce holds it at any address. A
 * released process address takes its actor entries along. True when released.
 */
export async function releaseClaim(
  transport: Transport,
  names: Names,
  claimed: string,
  token: string,
  rememberedMs: number,
): Promise<boolean> {
  const keys = [names.objectKey('name', claimed), names.objectKey('actors', claimed)];
  return (await RELEASE.run(transport, keys, [token, String(rememberedMs), claimed])) === 1;
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
