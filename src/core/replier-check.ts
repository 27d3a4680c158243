/**
 * Who may answer an ask of `to`: the asked address itself; else the address
 * that owns `to` in Redis (its name or process-address claim); else, while
 * nobody owns it, the address that gave the claim up lately (its owner
 * stopped while answering). An address nobody claims, such as
 * `<process>/<actor>`, is answered only by itself. Without a namespace secret
 * this keeps out confused and careless strangers, not determined ones (anyone
 * may write any `from`); the secret authenticates.
 */
import type { ClaimState } from '../registry/index.js';

/** Names whose owner is remembered, so that replies from them are checked without Redis. */
const MAX_KNOWN_OWNERS = 1024;

/**
 * How long a confirmed owner is trusted without asking Redis again: a name
 * that moved to another process stops being answered for by the old one.
 */
const OWNER_TRUSTED_MS = 10_000;

export class ReplierCheck {
  /** name → the address Redis confirmed owns it, and until when that is trusted. */
  private readonly owners = new Map<string, { owner: string; until: number }>();

  constructor(
    /** The claim on `name` as Redis holds it now. */
    private readonly claimOf: (name: string) => Promise<ClaimState>,
  ) {}

  /** True when `from` may answer asks of `to` without asking Redis. */
  knownToAnswer(to: string, from: string): boolean {
    if (from === to) return true;
    const known = this.owners.get(to);
    return known !== undefined && known.owner === from && known.until > Date.now();
  }

  /** Asks Redis whether `from` may answer asks of `to` (see the file comment). */
  async mayAnswer(to: string, from: string): Promise<boolean> {
    const { owner, releasedBy } = await this.claimOf(to);
    if (owner === undefined) return releasedBy === from;
    if (owner !== from) return false;
    if (this.owners.size >= MAX_KNOWN_OWNERS) this.owners.clear();
    this.owners.set(to, { owner, until: Date.now() + OWNER_TRUSTED_MS });
    return true;
  }
}
