/**
 * Presence of live actors, kept in Redis so any process can list them.
 *
 * Each process keeps its actors' entries in one hash, `<ns>:actors:{<process
 * address>}` (field: actor address, value: its description as JSON), next to
 * its address claim `<ns>:name:{<process address>}`, and is a member of the
 * sorted set `<ns>:processes`. Liveness is the address claim's alone: the
 * process refreshes that one key every `presenceIntervalMs`, whatever the
 * number of its actors, and an entry counts only while that claim holds the
 * token stored in the entry. A process that dies stops refreshing, so its
 * actors disappear on their own within `presenceTtlMs`; the hash and the
 * index member, kept for KEPT_MS, are then only garbage (a clean stop, a
 * supervisor or a successor at the same address removes them at once).
 */
import { Script, type Transport } from '../transport/index.js';
import type { Names, PayloadAuth } from '../wire/index.js';
import {
  type ClaimState,
  KEPT_MS,
  claimState,
  nonceOfToken,
  ownerOfToken,
  processOf,
  readClaim,
  releaseClaim,
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
  /**
   * A member of a durable pool: its name is shared with the other members
   * (no name claim of its own).
   */
  pool?: true;
}

/** What a host announces of one of its actors (the heartbeat is added when announced). */
export type PresenceEntry = Omit<ActorInfo, 'lastHeartbeat'>;

/** An entry as stored: with the token of the claim that makes it genuine, and that claim's TTL. */
interface StoredEntry extends ActorInfo {
  token: string;
  ttlMs: number;
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

/** A genuine entry is well under this (names and addresses are at most 200 characters). */
const MAX_ENTRY_BYTES = 4096;

/**
 * KEYS[1] a process's actor entries; ARGV[1] the longest value read. Every
 * field and value, but those too long for a genuine entry (a stranger's 500 MB
 * value costs a reader nothing), and nothing when the key is not a hash.
 */
const ENTRIES = new Script(`local fields = redis.pcall('HKEYS', KEYS[1])
if type(fields) ~= 'table' or fields.err then return {} end
local out = {}
for _, field in ipairs(fields) do
  if #field <= 200 and redis.call('HSTRLEN', KEYS[1], field) <= tonumber(ARGV[1]) then
    out[#out + 1] = field
    out[#out + 1] = redis.call('HGET', KEYS[1], field)
  end
end
return out`);

/**
 * KEYS[1] the process index; ARGV[1] a member, ARGV[2] the score it was read
 * with. Removes it unless it was added again since (a successor at that address).
 */
const PRUNE =
  new Script(`for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[2])) do
  if member == ARGV[1] then return redis.call('ZREM', KEYS[1], member) end
end
return 0`);

/**
 * Entries carry the token of their process's address claim and count only
 * while that claim holds it (and a named actor's name claim holds
 * `<its address>|<nonce>`), so a stranger's HSET, or a dead process's
 * leftover, is not listed; with a namespace secret they are signed as well.
 */
export class Registry {
  private readonly transport: Transport;
  private readonly names: Names;
  /** This system's process address. */
  private readonly process: string;
  private readonly actorsKey: string;
  private readonly indexKey: string;
  /** When this process's hash and index member are next renewed (see KEPT_MS); nothing before an announce. */
  private renewAt = Number.POSITIVE_INFINITY;
  private left = false;

  constructor(private readonly parts: RegistryParts) {
    this.transport = parts.transport;
    this.names = parts.names;
    this.process = ownerOfToken(parts.token) ?? '';
    this.actorsKey = parts.names.objectKey('actors', this.process);
    this.indexKey = parts.names.key('processes');
  }

  /** Publishes (or rewrites) the entries of these actors of this process. */
  async announce(actors: readonly PresenceEntry[]): Promise<void> {
    if (actors.length === 0) return;
    const { ttlMs, token, auth } = this.parts;
    const now = Date.now();
    const fields: string[] = [];
    for (const actor of actors) {
      const entry: StoredEntry = { ...actor, lastHeartbeat: now, token, ttlMs };
      const text = JSON.stringify(entry);
      const context = this.entryContext(this.actorsKey, actor.address);
      fields.push(actor.address, auth === undefined ? text : auth.signText(context, text));
    }
    if (this.renewAt === Number.POSITIVE_INFINITY && !this.left) this.renewAt = 0;
    await Promise.all([
      this.transport.command(['HSET', this.actorsKey, ...fields]),
      this.transport.command(['PEXPIRE', this.actorsKey, String(KEPT_MS)]),
      this.renewIfDue(now),
    ]);
  }

  /**
   * Renews what is kept for KEPT_MS (the hash, the index member) once half of
   * it has passed: a few commands a day, whatever the number of actors.
   */
  async renewIfDue(now = Date.now()): Promise<void> {
    if (now < this.renewAt) return;
    this.renewAt = now + KEPT_MS / 2;
    try {
      await Promise.all([
        this.transport.command(['PEXPIRE', this.actorsKey, String(KEPT_MS)]),
        this.transport.command(['ZADD', this.indexKey, String(now + KEPT_MS), this.process]),
        this.transport.command(['ZREMRANGEBYSCORE', this.indexKey, '-inf', `(${now}`]),
        this.transport.command(['PEXPIRE', this.indexKey, String(KEPT_MS)]),
      ]);
    } catch (error) {
      if (!this.left) this.renewAt = 0;
      throw error;
    }
  }

  /** Removes these actors of this process at once (on a clean stop). */
  async withdraw(addresses: readonly string[]): Promise<void> {
    if (addresses.length === 0) return;
    await this.transport.command(['HDEL', this.actorsKey, ...addresses]);
  }

  /** Takes this process out of the index (before its address claim is released). */
  async leave(): Promise<void> {
    this.left = true;
    this.renewAt = Number.POSITIVE_INFINITY;
    await this.transport.command(['ZREM', this.indexKey, this.process]);
  }

  /**
   * Releases the claims among `names` (names or process addresses) that the
   * system of `nonce` holds, at whatever address, and the actor entries of a
   * released process address: for a supervisor whose child died without a
   * clean stop, so that its successor claims them at once.
   */
  async releaseClaimsOf(nonce: string, names: readonly string[]): Promise<void> {
    if (nonce === '') return;
    const { transport, parts } = this;
    await Promise.all(
      names.map((name) => releaseClaim(transport, this.names, name, `|${nonce}`, parts.ttlMs)),
    );
  }

  /**
   * Who holds the claim on `name` (or on a process address) now, or gave it up
   * lately. A name held for an actor whose process no longer holds its address
   * claim is held by nobody.
   */
  async claimOf(name: string): Promise<ClaimState> {
    const held = await readClaim(this.transport, this.names.objectKey('name', name));
    const state = claimState(held === '' ? undefined : held);
    const { owner } = state;
    if (owner === undefined || owner === name) return state;
    const process = processOf(owner);
    const processHeld = await readClaim(this.transport, this.names.objectKey('name', process));
    if (processHeld === `${process}|${nonceOfToken(held)}`) return state;
    return { owner: undefined, releasedBy: undefined };
  }

  /** Every live actor of the namespace, sorted by name then address. */
  async list(): Promise<ActorInfo[]> {
    const reply = await this.transport.command([
      'ZRANGEBYSCORE',
      this.indexKey,
      String(Date.now()),
      '+inf',
      'WITHSCORES',
    ]);
    if (!Array.isArray(reply)) return [];
    const processes: [string, string][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      processes.push([String(reply[i]), String(reply[i + 1])]);
    }
    const found = await Promise.all(
      processes.map(([process, score]) => this.actorsOf(process, score)),
    );
    return found.flat().sort(byNameThenAddress);
  }

  /** The live actor with this name or address, if any. */
  async lookup(nameOrAddress: string): Promise<ActorInfo | undefined> {
    // Only two processes can host it: the one of that address, and the one of the name's owner.
    const processes = new Set([processOf(nameOrAddress)]);
    const { owner } = claimState(
      (await readClaim(this.transport, this.names.objectKey('name', nameOrAddress))) || undefined,
    );
    if (owner !== undefined) processes.add(processOf(owner));
    const found = await Promise.all([...processes].map((process) => this.actorsOf(process)));
    return found
      .flat()
      .filter((info) => info.name === nameOrAddress || info.address === nameOrAddress)
      .sort(byNameThenAddress)[0];
  }

  /**
   * The genuine entries of `process` while its address claim is held: signed
   * (with a secret), at their own field, in that process, with the claim's
   * token, and for a named actor with its name claim held. `score`: its index
   * member's, pruned when the process is gone.
   */
  private async actorsOf(process: string, score?: string): Promise<ActorInfo[]> {
    const claimKey = this.names.objectKey('name', process);
    const [token, pttl] = await Promise.all([
      readClaim(this.transport, claimKey),
      this.transport.command(['PTTL', claimKey]),
    ]);
    if (ownerOfToken(token) !== process) {
      if (score !== undefined) {
        await PRUNE.run(this.transport, [this.indexKey], [process, score]).catch(() => undefined);
      }
      return [];
    }
    const actorsKey = this.names.objectKey('actors', process);
    const reply = await ENTRIES.run(this.transport, [actorsKey], [String(MAX_ENTRY_BYTES)]);
    if (!Array.isArray(reply)) return [];
    const entries: StoredEntry[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const field = String(reply[i]);
      const entry = this.parseEntry(this.entryContext(actorsKey, field), reply[i + 1]);
      if (entry === undefined || entry.address !== field || entry.token !== token) continue;
      if (processOf(entry.address) !== process) continue;
      entries.push(entry);
    }
    const nonce = nonceOfToken(token);
    const nameHolders = await Promise.all(
      entries.map((entry) =>
        entry.name === undefined || entry.pool === true
          ? Promise.resolve(undefined)
          : readClaim(this.transport, this.names.objectKey('name', entry.name)),
      ),
    );
    // When the process last refreshed its claim: the claim's TTL, less what is left of it.
    const now = Date.now();
    const left = Number(pttl);
    const refreshedAt = (ttlMs: number) =>
      ttlMs > 0 && left > 0 ? now - Math.max(0, ttlMs - left) : 0;
    const genuine: ActorInfo[] = [];
    entries.forEach((entry, i) => {
      const { name, address, host, pid, startedAt, lastHeartbeat, ttlMs, pool } = entry;
      // A pool member's name is shared: its process's claim is what makes it live.
      if (name !== undefined && pool !== true && nameHolders[i] !== `${address}|${nonce}`) return;
      const heartbeat = Math.max(lastHeartbeat, refreshedAt(ttlMs));
      genuine.push({
        name,
        address,
        host,
        pid,
        startedAt,
        lastHeartbeat: heartbeat,
        ...(pool === true ? { pool } : {}),
      });
    });
    return genuine;
  }

  /** What an entry is signed for: its hash's key and its field. */
  private entryContext(actorsKey: string, address: string): string {
    return `${actorsKey}:${address}`;
  }

  private parseEntry(context: string, value: unknown): StoredEntry | undefined {
    if (!Buffer.isBuffer(value)) return undefined;
    const { auth } = this.parts;
    const text = auth === undefined ? value : auth.verify(context, value);
    if (!Buffer.isBuffer(text)) return undefined;
    return parseEntry(text);
  }
}

const byNameThenAddress = (a: ActorInfo, b: ActorInfo): number =>
  (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || a.address.localeCompare(b.address);

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
    ttlMs: typeof entry.ttlMs === 'number' ? entry.ttlMs : 0,
    ...(entry.pool === true ? { pool: true as const } : {}),
  };
}
