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
import type { Names, PayloadAuth } from '../wire/index.js';
import {
  type ClaimState,
  MAX_CLAIM_BYTES,
  claimState,
  ownerOfToken,
  releaseClaims,
} from './name-claims.js';

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

/** An entry as stored: with the token of the claims that make it genuine. */
interface StoredEntry extends ActorInfo {
  token: string;
}

export interface RegistryParts {
  transport: Transport;
  names: Names;
  ttlMs: number;
  /** The token of this system's claims, `<process address>|<nonce>`, stored in its entries. */
  token: string;
  /** With a namespace secret: entries are signed, and unsigned ones ignored. */
  auth: PayloadAuth | undefined;
}

/**
 * Entries are `<ns>:actor:<address>` (JSON, signed with a namespace secret)
 * carrying the claim token of their process; an entry counts only while that
 * process's address claim (and the actor's name claim) is held with that
 * token, so a stranger's SET, or a dead process's leftover, is not listed.
 */
export class Registry {
  private readonly presenceKey: string;
  private readonly transport: Transport;
  private readonly names: Names;

  constructor(private readonly parts: RegistryParts) {
    this.transport = parts.transport;
    this.names = parts.names;
    this.presenceKey = parts.names.key('presence');
  }

  /** Publishes (or refreshes) the presence of these actors. */
  async announce(actors: readonly PresenceEntry[]): Promise<void> {
    if (actors.length === 0) return;
    const { ttlMs, token, auth } = this.parts;
    const now = Date.now();
    const expiresAt = String(now + ttlMs);
    const commands: Promise<unknown>[] = [];
    for (const actor of actors) {
      const key = this.actorKey(actor.address);
      const entry: StoredEntry = { ...actor, lastHeartbeat: now, token };
      const text = JSON.stringify(entry);
      commands.push(
        this.transport.command([
          'SET',
          key,
          auth === undefined ? text : auth.signText(key, text),
          'PX',
          String(ttlMs),
        ]),
        this.transport.command(['ZADD', this.presenceKey, expiresAt, actor.address]),
      );
    }
    commands.push(
      this.transport.command(['ZREMRANGEBYSCORE', this.presenceKey, '-inf', `(${now}`]),
      this.transport.command(['PEXPIRE', this.presenceKey, String(ttlMs * 6)]),
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
   * Releases the claims among `names` (names or process addresses) that the
   * system of `nonce` holds, at whatever address: for a supervisor whose
   * child died without a clean stop, so that its successor claims them at once.
   */
  async releaseClaimsOf(nonce: string, names: readonly string[]): Promise<void> {
    if (nonce === '') return;
    await releaseClaims(this.transport, this.names, names, `|${nonce}`, this.parts.ttlMs);
  }

  /** Who holds the claim on `name` (or on a process address) now, or gave it up lately. */
  async claimOf(name: string): Promise<ClaimState> {
    const held = await this.readClaim(this.names.key('name', name));
    return claimState(held === '' ? undefined : held);
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
    const keys = addresses.map((address) => this.actorKey(address));
    // At most MAX_ENTRY_BYTES of each: a stranger's 500 MB entry costs nothing to skip.
    const values = await Promise.all(
      keys.map((key) => this.transport.command(['GETRANGE', key, '0', String(MAX_ENTRY_BYTES)])),
    );
    const entries: StoredEntry[] = [];
    values.forEach((value, i) => {
      const entry = this.parseEntry(keys[i] ?? '', value);
      if (entry !== undefined) entries.push(entry);
    });
    const genuine = await this.withClaimsHeld(entries);
    return genuine.sort(
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

  /** A claim's value, at most MAX_CLAIM_BYTES of it (`''` when there is none). */
  private async readClaim(key: string): Promise<string> {
    const held = await this.transport.command(['GETRANGE', key, '0', String(MAX_CLAIM_BYTES)]);
    return Buffer.isBuffer(held) ? held.toString() : '';
  }

  private actorKey(address: string): string {
    return this.names.key('actor', address);
  }

  /** The entries whose process address claim, and name claim, are held with their token. */
  private async withClaimsHeld(entries: readonly StoredEntry[]): Promise<ActorInfo[]> {
    if (entries.length === 0) return [];
    const claimKeys: string[] = [];
    for (const entry of entries) {
      claimKeys.push(this.names.key('name', ownerOfToken(entry.token) ?? ''));
      if (entry.name !== undefined) claimKeys.push(this.names.key('name', entry.name));
    }
    const holders = await Promise.all(claimKeys.map((key) => this.readClaim(key)));
    const genuine: ActorInfo[] = [];
    let next = 0;
    for (const { token, ...info } of entries) {
      const processHolder = holders[next++];
      const nameHolder = info.name === undefined ? undefined : holders[next++];
      const process = ownerOfToken(token) ?? '';
      const nonce = token.slice(process.length + 1);
      const inProcess = info.address === process || info.address.startsWith(`${process}/`);
      const nameHeld = info.name === undefined || nameHolder === `${info.address}|${nonce}`;
      if (processHolder === token && inProcess && nameHeld) genuine.push(info);
    }
    return genuine;
  }

  private parseEntry(key: string, value: unknown): StoredEntry | undefined {
    if (!Buffer.isBuffer(value)) return undefined;
    const { auth } = this.parts;
    const text = auth === undefined ? value : auth.verify(key, value);
    if (!Buffer.isBuffer(text)) return undefined;
    return parseEntry(text);
  }
}

/** A genuine entry is well under this (names and addresses are at most 200 characters). */
const MAX_ENTRY_BYTES = 4096;

/** A stored entry from (untrusted) JSON, or `undefined` when it is not one. */
function parseEntry(text: Buffer): StoredEntry | undefined {
  if (text.length === 0 || text.length > MAX_ENTRY_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString());
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const entry = parsed as Partial<StoredEntry>;
  const { address, pid, token } = entry;
  if (typeof address !== 'string' || typeof pid !== 'number') return undefined;
  if (typeof token !== 'string' || ownerOfToken(token) === undefined) return undefined;
  return {
    name: typeof entry.name === 'string' ? entry.name : undefined,
    address,
    host: typeof entry.host === 'string' ? entry.host : '',
    pid,
    startedAt: typeof entry.startedAt === 'number' ? entry.startedAt : 0,
    lastHeartbeat: typeof entry.lastHeartbeat === 'number' ? entry.lastHeartbeat : 0,
    token,
  };
}
