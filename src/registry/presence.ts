/**
 * The presence of this system's actors in Redis: their registry entries,
 * refreshed while they live, and the names they are reachable by, each owned
 * by one actor at a time.
 *
 * A name is claimed atomically (a Lua script): `<ns>:name:<name>` is set to the
 * claimant's token, with the presence TTL, unless another owner holds it and
 * is alive. An owner counts as alive while anything subscribes the name's
 * channel, or while it refreshed its claim within two presence intervals (so a
 * claimant that has not subscribed yet keeps what it claimed). Only the owner
 * refreshes its claim; a claim is released only by its owner, or by a
 * supervisor for the child it saw exit.
 */
import { NameTakenError } from '../errors.js';
import type { Transport } from '../transport/index.js';
import { claimName, refreshClaims, releaseClaims } from './name-claims.js';
import type { Names } from '../wire/index.js';
import type { PresenceEntry, Registry } from './registry.js';

export interface PresenceParts {
  transport: Transport;
  names: Names;
  registry: Registry;
  ttlMs: number;
  intervalMs: number;
  /** This system's nonce: with an actor's address, the token of its claims. */
  nonce: string;
  /** The entries to refresh now (actors being stopped left out). */
  entries(): PresenceEntry[];
  /** Names claimed by this system's actors, with the owner's address. */
  claims(): { name: string; owner: string }[];
  onRefreshFailed(error: unknown): void;
}

export class Presence {
  private timer: NodeJS.Timeout | undefined;

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
    const { transport, names, ttlMs, intervalMs } = this.parts;
    const won = await claimName(transport, names, name, this.tokenOf(owner), ttlMs, 2 * intervalMs);
    if (!won) throw new NameTakenError(name);
  }

  /** Gives up the names `owner` holds (its own claims only). */
  async release(names: readonly string[], owner: string): Promise<void> {
    if (names.length === 0) return;
    const { transport, ttlMs } = this.parts;
    await releaseClaims(transport, this.parts.names, names, this.tokenOf(owner), ttlMs);
  }

  /** Publishes (or refreshes) these entries now, and keeps refreshing every interval. */
  async announce(entries: readonly PresenceEntry[]): Promise<void> {
    await this.parts.registry.announce(entries);
    this.keepAlive();
  }

  /**
   * Refreshes the claims (the process address's first) and entries every
   * interval, from now on: a system without actors keeps its address too.
   */
  keepAlive(): void {
    this.timer ??= setInterval(() => {
      this.refresh();
    }, this.parts.intervalMs).unref();
  }

  withdraw(addresses: readonly string[]): Promise<void> {
    return this.parts.registry.withdraw(addresses);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private refresh(): void {
    const { registry, transport, ttlMs } = this.parts;
    const byOwner = new Map<string, string[]>();
    for (const { name, owner } of this.parts.claims()) {
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), name]);
    }
    const refreshed = [
      registry.announce(this.parts.entries()),
      ...[...byOwner].map(([owner, names]) =>
        refreshClaims(transport, this.parts.names, names, this.tokenOf(owner), ttlMs),
      ),
    ];
    Promise.all(refreshed).catch((error: unknown) => {
      this.parts.onRefreshFailed(error);
    });
  }
}
