/**
 * The process address, claimed like a name: `<hostname>-<pid>` unless a live
 * process already holds it (two containers with the same hostname, both
 * running node as pid 1), then `<hostname>-<pid>~2`, `~3`, … so that two
 * processes never share one mailbox.
 */
import { NameTakenError } from '../errors.js';
import type { Transport } from '../transport/index.js';
import type { Names } from '../wire/index.js';
import { type ClaimTiming, claim } from './name-claims.js';

/** Most suffixes tried before giving up: more live processes with one hostname and pid is a misconfiguration. */
const MAX_SUFFIX = 64;

export interface ClaimedAddress {
  address: string;
  /** Why the address is not the one asked for, when it is not. */
  why: string | undefined;
}

/** Every address a process whose own is `base` may claim, in the order it tries them. */
export function addressCandidates(base: string): string[] {
  return Array.from({ length: MAX_SUFFIX }, (_, i) => (i === 0 ? base : `${base}~${i + 1}`));
}

/**
 * Claims `base` or the first free `base~<n>` for `<address>|<nonce>` (clearing
 * the actor entries a dead predecessor at that address left).
 */
export async function claimProcessAddress(
  transport: Transport,
  names: Names,
  base: string,
  nonce: string,
  timing: ClaimTiming,
): Promise<ClaimedAddress> {
  for (const address of addressCandidates(base)) {
    if (await claim(transport, names, address, `${address}|${nonce}`, timing, true)) {
      const why =
        address === base
          ? undefined
          : `address ${base} is held by another live process (same hostname and pid: ` +
            `containers?); this process uses ${address}`;
      return { address, why };
    }
  }
  throw new NameTakenError(`${base}~${MAX_SUFFIX}`);
}
