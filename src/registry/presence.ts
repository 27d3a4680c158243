/**
 * The presence of this system's actors in Redis: their registry entries, and
 * the names they are reachable by, each owned by one actor at a time.
 *
 * What is refreshed every presence interval is this process's address claim,
 * one key, whatever the number of actors (see registry.ts and
 * name-claims.ts): entries and names count while that claim holds this
 * system's token. Names are claimed atomically (name-claims.ts), released only
 * by their owner, or by a supervisor for the child it saw exit. What a retired
 * actor leaves behind (its entry, its name) is removed at once, or retried
 * every interval while Redis cannot be reached.
 */
import { NameTakenError } from '../errors.js';
import type { Transport } from '../transport/index.js';
import type { Names } from '../wire/index.js';
import { KEPT_MS, claim, processIsLive, refreshAddress, releaseClaim } from './name-claims.js';
import type { PresenceEntry, Registry } from './registry.js';

export interface PresenceParts {
  transport: Transport;
  names: Names;
  registry: Registry;
  /** This system's process address. */
  address: string;
  /** This system's nonce: with an actor's address, the token of its claims. */
  nonce: string;
  ttlMs: number;
  intervalMs: number;
  onRefreshFailed(error: unknown): void;
}

/** An actor taken out of service: its entry is withdrawn, its name given up. */
export interface RetiredActor {
  address: string;
  name: string | undefined;
}

export class Presence {
  private timer: NodeJS.Timeout | undefined;
  /** Names this system's actors hold: owner, and when the claim's KEPT_MS is next renewed. */
  private readonly held = new Map<string, { owner: string; renewAt: number }>();
  /** Entries of retired actors not withdrawn yet: address → the retirement that left it. */
  private readonly leftEntries = new Map<string, number>();
  /** Names of retired actors not given up yet. */
  private readonly leftNames = new Map<string, { owner: string }>();
  private retirements = 0;

  constructor(private readonly parts: PresenceParts) {}

  /** The token of claims made by `owner` (an actor address of this system). */
  tokenOf(owner: string): string {
    return `${owner}|${this.parts.nonce}`;
  }

  /**
   * Claims `name` for `owner`; throws NameTakenError when a live owner holds
   * it. Exactly one of several simultaneous claimants wins.
   */
  async claim(name: string, owner: string): Promise<void> {
    const left = this.leftNames.get(name);
    // The same owner again holds it with the same token; another one waits for its release.
    if (left?.owner === owner) this.leftNames.delete(name);
    else if (left !== undefined) await this.removeLeftovers();
    const { transport, names, ttlMs, intervalMs } = this.parts;
    const timing = { ttlMs, staleAfterMs: 2 * intervalMs };
    if (!(await claim(transport, names, name, this.tokenOf(owner), timing, false))) {
      throw new NameTakenError(name);
    }
    this.held.set(name, { owner, renewAt: Date.now() + KEPT_MS / 2 });
  }

  /**
   * Whether the process of a claim token (`<actor address>|<nonce>`, e.g. the
   * consumer of a durable mailbox) is live: its address claim holds that nonce.
   */
  isLive(token: string): Promise<boolean> {
    const { transport, names, ttlMs, intervalMs } = this.parts;
    return processIsLive(transport, names, token, { ttlMs, staleAfterMs: 2 * intervalMs });
  }

  /** Publishes (or rewrites) these entries now, and keeps this process's claim refreshed. */
  async announce(entries: readonly PresenceEntry[]): Promise<void> {
    for (const entry of entries) this.leftEntries.delete(entry.address);
    await this.parts.registry.announce(entries);
    this.keepAlive();
  }

  /**
   * Withdraws these actors' entries and gives up their names; what cannot be
   * done now is retried every interval (resolves once all of it is done).
   */
  retire(actors: readonly RetiredActor[]): Promise<void> {
    const retirement = ++this.retirements;
    for (const { address, name } of actors) {
      this.leftEntries.set(address, retirement);
      if (name !== undefined && this.held.get(name)?.owner === address) {
        this.held.delete(name);
        this.leftNames.set(name, { owner: address });
      }
    }
    return this.removeLeftovers();
  }

  /** Gives up the process address (and with it every entry): the last step of a clean stop. */
  async releaseAddress(): Promise<void> {
    const { transport, names, registry, address, ttlMs } = this.parts;
    // Out of the index first: while the claim is held, no successor can be put back in it.
    await registry.leave();
    await releaseClaim(transport, names, address, this.tokenOf(address), ttlMs);
  }

  /**
   * Refreshes the process address claim every interval, from now on: a system
   * without actors keeps its address too.
   */
  keepAlive(): void {
    this.timer ??= setInterval(() => {
      this.refresh();
    }, this.parts.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One script when idle (the address claim), whatever the number of actors;
   * leftovers when there are any; and what is kept for KEPT_MS, twice a day.
   */
  private refresh(): void {
    const { transport, names, registry, address, ttlMs } = this.parts;
    const now = Date.now();
    const refreshed: Promise<unknown>[] = [
      refreshAddress(transport, names, address, this.tokenOf(address), ttlMs).then((held) => {
        if (!held) {
          throw new Error(
            `the claim on ${address} does not hold this process's token any more ` +
              '(it expired, or was overwritten): its actors are not listed, its names are free',
          );
        }
      }),
      this.removeLeftovers(),
      registry.renewIfDue(now),
    ];
    for (const [name, held] of this.held) {
      if (held.renewAt > now) continue;
      held.renewAt = now + KEPT_MS / 2;
      refreshed.push(
        transport.command(['PEXPIRE', names.objectKey('name', name), String(KEPT_MS)]),
      );
    }
    Promise.all(refreshed).catch((error: unknown) => {
      this.parts.onRefreshFailed(error);
    });
  }

  /** Withdraws the entries and releases the names retired actors left. */
  private async removeLeftovers(): Promise<void> {
    const entries = [...this.leftEntries];
    const leftNames = [...this.leftNames];
    if (entries.length === 0 && leftNames.length === 0) return;
    const { transport, names, registry, ttlMs } = this.parts;
    await Promise.all([
      registry.withdraw(entries.map(([address]) => address)),
      ...leftNames.map(([name, { owner }]) =>
        releaseClaim(transport, names, name, this.tokenOf(owner), ttlMs),
      ),
    ]);
    // Unless retired again (or announced, or claimed again) meanwhile.
    for (const [address, retirement] of entries) {
      if (this.leftEntries.get(address) === retirement) this.leftEntries.delete(address);
    }
    for (const [name, left] of leftNames) {
      if (this.leftNames.get(name) === left) this.leftNames.delete(name);
    }
  }
}
