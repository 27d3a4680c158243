/**
 * Presence of live actors, kept in Redis so any process can list them.
 *
 * Each actor has a key `<ns>:actor:<address>` holding its description (JSON)
 * with a TTL, and a member of the sorted set `<ns>:presence` scored by the
 * time that key expires. Hosts refresh both every `presenceIntervalMs`; a
 * process that dies stops refreshing, so it disappears on its own within
 * `presenceTtlMs`. Listing reads the set's live members, then their keys.
 */
import type { Transport } from '../transport/index.js';
import type { Names } from '../wire/index.js';
import { releaseClaims } from './name-claims.js';

/** A live actor, as listed by the registry. */
export interface ActorInfo {
  /** Name it is reachable by, when it has one. */
  name: string | undefined;
  address: string;
  host: string;
  pid: number;
  /** When the actor started, ms since the epoch. */
  startedAt: number;
  /** When its host last refreshed its presence, ms since the epoch. */
  lastHeartbeat: number;
}

/** What a host announces of one of its actors (the heartbeat is added when announced). */
export type PresenceEntry = Omit<ActorInfo, 'lastHeartbeat'>;

export class Registry {
  private readonly presenceKey: string;

  constructor(
    private readonly transport: Transport,
    private readonly names: Names,
    private readonly ttlMs: number,
  ) {
    this.presenceKey = names.key('presence');
  }

  /** Publishes (or refreshes) the presence of these actors. */
  async announce(actors: readonly PresenceEntry[]): Promise<void> {
    if (actors.length === 0) return;
    const now = Date.now();
    const expiresAt = String(now + this.ttlMs);
    const commands: Promise<unknown>[] = [];
    for (const actor of actors) {
      const info: ActorInfo = { ...actor, lastHeartbeat: now };
      commands.push(
        this.transport.command([
          'SET',
          this.actorKey(actor.address),
          JSON.stringify(info),
          'PX',
          String(this.ttlMs),
        ]),
        this.transport.command(['ZADD', this.presenceKey, expiresAt, actor.address]),
      );
    }
    commands.push(
      this.transport.command(['ZREMRANGEBYSCORE', this.presenceKey, '-inf', `(${now}`]),
      this.transport.command(['PEXPIRE', this.presenceKey, String(this.ttlMs * 6)]),
    );
    await Promise.all(commands);
  }

  /** Removes these actors at once (on a clean stop). */
  async withdraw(addresses: readonly string[]): Promise<void> {
    if (addresses.length === 0) return;
    await Promise.all([
      this.transport.command(['DEL', ...addresses.map((address) => this.actorKey(address))]),
      this.transport.command(['ZREM', this.presenceKey, ...addresses]),
    ]);
  }

  /**
   * Releases the name claims `address` held (for a supervisor whose child
   * exited without a clean stop), so that its successor can claim them at once.
   */
  async releaseNames(address: string, names: readonly string[]): Promise<void> {
    await releaseClaims(this.transport, this.names, names, `${address}|`);
  }

  /** Every live actor of the namespace, sorted by name then address. */
  async list(): Promise<ActorInfo[]> {
    const live = await this.transport.command([
      'ZRANGEBYSCORE',
      this.presenceKey,
      String(Date.now()),
      '+inf',
    ]);
    if (!Array.isArray(live) || live.length === 0) return [];
    const addresses = live.map((member) => String(member));
    const values = await this.transport.command([
      'MGET',
      ...addresses.map((address) => this.actorKey(address)),
    ]);
    const infos: ActorInfo[] = [];
    for (const value of Array.isArray(values) ? values : []) {
      const info = parseInfo(value);
      if (info !== undefined) infos.push(info);
    }
    return infos.sort(
      (a, b) =>
        (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') ||
        a.address.localeCompare(b.address),
    );
  }

  /** The live actor with this name or address, if any. */
  async lookup(nameOrAddress: string): Promise<ActorInfo | undefined> {
    return (await this.list()).find(
      (info) => info.name === nameOrAddress || info.address === nameOrAddress,
    );
  }

  private actorKey(address: string): string {
    return this.names.key('actor', address);
  }
}

function parseInfo(value: unknown): ActorInfo | undefined {
  if (!Buffer.isBuffer(value)) return undefined;
  try {
    const info = JSON.parse(value.toString()) as Partial<ActorInfo>;
    if (typeof info.address !== 'string' || typeof info.pid !== 'number') return undefined;
    return {
      name: typeof info.name === 'string' ? info.name : undefined,
      address: info.address,
      host: typeof info.host === 'string' ? info.host : '',
      pid: info.pid,
      startedAt: typeof info.startedAt === 'number' ? info.startedAt : 0,
      lastHeartbeat: typeof info.lastHeartbeat === 'number' ? info.lastHeartbeat : 0,
    };
  } catch {
    return undefined;
  }
}
