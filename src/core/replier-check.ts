/**
 * Who may answer an ask of `to`: the asked address itself; else the address
 * that owns `to` in Redis (its name or process-address claim); else, while
 * nobody owns the name `to` (its owner gave it up while answering), only a
 * live process of the namespace answering as the actor of that name. Without a
 * namespace secret this keeps out confused and careless strangers, not
 * determined ones (anyone may write any `from`); the secret authenticates.
 */

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
    /** The address that owns `name` now (its claim in Redis), if any. */
    private readonly ownerOf: (name: string) => Promise<string | undefined>,
  ) {}

  /** True when `from` may answer asks of `to` without asking Redis. */
  knownToAnswer(to: string, from: string): boolean {
    if (from === to) return true;
    const known = this.owners.get(to);
    return known !== undefined && known.owner === from && known.until > Date.now();
  }

  /** Asks Redis whether `from` may answer asks of `to` (see the file comment). */
  async mayAnswer(to: string, from: string): Promise<boolean> {
    const owner = await this.ownerOf(to);
    if (owner !== undefined) {
      if (owner !== from) return false;
      this.remember(to, owner);
      return true;
    }
    // An actor address (`<process>/<local name>`) is nobody's claim: only it answers for itself.
    if (to.includes('/')) return false;
    const process = processPart(from);
    if (from !== process && from !== `${process}/${to}`) return false;
    return (await this.ownerOf(process)) === process;
  }

  private remember(name: string, owner: string): void {
    if (this.owners.size >= MAX_KNOWN_OWNERS) this.owners.clear();
    this.owners.set(name, { owner, until: Date.now() + OWNER_TRUSTED_MS });
  }
}

/** The process address of an actor address (`<process>` or `<process>/<local name>`). */
function processPart(address: string): string {
  const slash = address.indexOf('/');
  return slash === -1 ? address : address.slice(0, slash);
}
