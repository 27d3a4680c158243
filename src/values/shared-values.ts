/**
 * Shared values: the latest value of named quantities (the seed's
 * `mymodel.arm_angle`), written by one process and read or watched by others.
 *
 * A group `g` is one Redis hash `<namespace>:values:<g>`, one field per value
 * holding its JSON text (see value-codec.ts), plus the field `$version`, which
 * every write or delete increments. Writes run one Lua script that sets the
 * fields, increments `$version` and publishes a change notification on the
 * channel of the same name, all in one atomic step: a read (one HMGET) never
 * sees half of a multi-value update, and a notification always matches the
 * values it announces.
 */
import { InvalidOptionError, MessageTooLargeError } from '../errors.js';
import {
  type ChannelListeners,
  Script,
  type Transport,
  type Unsubscribe,
} from '../transport/index.js';
import { UNSAFE_KEYS, assertValidName } from '../wire/index.js';
import { decodeValue, encodeValue } from './value-codec.js';
import { type Snapshot, Watcher } from './watcher.js';

/** The hash field holding a group's version. Fields starting with `$` are reserved. */
export const VERSION_FIELD = '$version';

/**
 * Notifications carry the new values when their JSON is at most this large;
 * larger updates announce only the names, and watchers read the values.
 */
export const INLINE_NOTIFICATION_BYTES = 64 * 1024;

/**
 * KEYS[1]: the hash. ARGV[1]: the channel; ARGV[2]: the notification's text
 * after its version; ARGV[3]: 'set' (field, value pairs follow) or 'del'
 * (fields follow); ARGV[4]: PUBLISH, or SPUBLISH on a cluster (the channel
 * and the hash share a name, so a slot). Returns the new version.
 */
const WRITE_SCRIPT = `local key = KEYS[1]
if ARGV[3] == 'set' then
  for i = 5, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
else
  for i = 5, #ARGV do redis.call('HDEL', key, ARGV[i]) end
end
local version = redis.call('HINCRBY', key, '${VERSION_FIELD}', 1)
redis.call(ARGV[4], ARGV[1], '{"version":' .. string.format('%d', version) .. ARGV[2])
return version`;

const WRITE = new Script(WRITE_SCRIPT);

/** Names of the values of a schema. */
export type ValueName<Schema> = Extract<keyof Schema, string>;

/** What a watch callback is told besides the values. */
export interface ValueChange<K extends string = string> {
  /** The group's `$version` after the update (for a re-read: the version read). */
  version: number;
  /**
   * The watched names this update set or deleted; after a reconnect re-read,
   * every watched name.
   */
  names: K[];
}

/** What a SharedValues needs from its actor system. @internal */
export interface SharedValuesHost {
  transport: Transport;
  listeners: ChannelListeners;
  /** Largest write, in bytes of JSON text. */
  maxWriteBytes: number;
  /** Deepest nesting of a value written or read. */
  maxNestingDepth: number;
  /** Calls `listener` after each reconnect (once the mailbox is proven live); returns its removal. */
  onReconnect(listener: () => void): () => void;
  /** Throws ShuttingDownError once the system is stopping. */
  assertRunning(): void;
  /** Logs the first occurrence of each reason. */
  logOnce(reason: string, message: string): void;
}

/**
 * Values of one group, typed by `Schema` (`{ arm_angle: number; … }`), from
 * {@link ActorSystem.values}. Numbers stay numbers, arrays arrays, a
 * Float64Array a Float64Array; see the README for the stored format.
 */
export class SharedValues<Schema extends object = Record<string, unknown>> {
  /** @internal */
  constructor(
    /** The group's name. */
    readonly group: string,
    /** The Redis hash holding the values, `<namespace>:values:<group>`. */
    readonly key: string,
    /** The channel change notifications are published on (the same name as the hash). */
    readonly channel: string,
    private readonly host: SharedValuesHost,
  ) {}

  /** Stores one value; resolves with the group's new version. */
  set<K extends ValueName<Schema>>(name: K, value: Schema[K]): Promise<number> {
    return this.setMany({ [name]: value } as unknown as Partial<Schema>);
  }

  /**
   * Stores several values at once, atomically: no reader sees some of them
   * without the others. Resolves with the group's new version. Rejects with
   * InvalidMessageError for a value that cannot be stored faithfully (NaN,
   * undefined, a function, a Map, …), MessageTooLargeError over `maxMessageBytes`.
   */
  async setMany(values: Partial<Schema>): Promise<number> {
    this.host.assertRunning();
    const fields: string[] = [];
    const members: string[] = [];
    let size = 0;
    for (const [name, value] of Object.entries(values)) {
      this.assertName(name);
      const text = encodeValue(value, name, this.host.maxNestingDepth);
      size += Buffer.byteLength(text);
      fields.push(name, text);
      members.push(`${JSON.stringify(name)}:${text}`);
    }
    if (fields.length === 0) {
      throw new InvalidOptionError('values', 'setMany() needs at least one value to store');
    }
    if (size > this.host.maxWriteBytes)
      throw new MessageTooLargeError(size, this.host.maxWriteBytes);
    const tail =
      size <= INLINE_NOTIFICATION_BYTES
        ? `,"values":{${members.join(',')}}}`
        : `,"names":${JSON.stringify(Object.keys(values))}}`;
    return this.write(tail, 'set', fields);
  }

  /** Deletes values (absent ones are ignored); resolves with the group's new version. */
  async delete(...names: ValueName<Schema>[]): Promise<number> {
    this.host.assertRunning();
    if (names.length === 0) {
      throw new InvalidOptionError('names', 'delete() needs at least one value name');
    }
    for (const name of names) this.assertName(name);
    return this.write(`,"deleted":${JSON.stringify(names)}}`, 'del', names);
  }

  /** The value of `name`, or `undefined` when it is not set. */
  async get<K extends ValueName<Schema>>(name: K): Promise<Schema[K] | undefined> {
    this.host.assertRunning();
    this.assertName(name);
    const reply = await this.host.transport.command(['HGET', this.key, name]);
    return (isText(reply) ? this.decode(reply, name) : undefined) as Schema[K] | undefined;
  }

  /**
   * Several values read at once (one HMGET): a consistent snapshot, never
   * half of a {@link setMany}. Names that are not set are absent from the result.
   */
  async getMany<K extends ValueName<Schema>>(
    names: readonly K[],
  ): Promise<Partial<Pick<Schema, K>>> {
    this.host.assertRunning();
    if (names.length === 0) return {};
    for (const name of names) this.assertName(name);
    return (await this.snapshot(names)).values as Partial<Pick<Schema, K>>;
  }

  /**
   * Every value of the group (without `$version`). A field that holds what
   * redis-actors never stores (written by another client: nested too deep, an
   * own `__proto__`, `constructor` or `prototype` key) is left out and logged.
   */
  async getAll(): Promise<Partial<Schema>> {
    this.host.assertRunning();
    const reply = await this.host.transport.command(['HGETALL', this.key]);
    const values: Record<string, unknown> = {};
    if (!Array.isArray(reply)) return values as Partial<Schema>;
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const field = reply[i];
      const text = reply[i + 1];
      if (!isText(field) || !isText(text)) continue;
      const name = field.toString();
      // '$' fields are the group's own; '__proto__' would set the result's prototype.
      if (name.startsWith('$') || UNSAFE_KEYS.has(name)) continue;
      try {
        values[name] = this.decode(text, name);
      } catch (error) {
        this.host.logOnce('values-refused', (error as Error).message);
      }
    }
    return values as Partial<Schema>;
  }

  /**
   * Calls `callback` with the new value each time `name` is set or deleted
   * (`undefined`), by this or any other process, without polling. Resolves
   * once Redis confirmed the subscription.
   *
   * Only changes are reported: to start from the current value, watch first,
   * then {@link get}. Notifications are pub/sub, so none arrives while the
   * connection is down; after a reconnect the watched values are read again
   * and, when the group's version moved meanwhile, passed to `callback`.
   * Values written by other clients without the write script (a bare HSET) are
   * not announced.
   */
  watch<K extends ValueName<Schema>>(
    name: K,
    callback: (value: Schema[K] | undefined, change: ValueChange<K>) => void,
  ): Promise<Unsubscribe>;
  /**
   * Calls `callback` with the watched values an update set (a deleted one is
   * listed in `change.names` but absent from `values`). The values of one
   * callback come from one update: those of a {@link setMany} arrive together.
   */
  watch<K extends ValueName<Schema>>(
    names: readonly K[],
    callback: (values: Partial<Pick<Schema, K>>, change: ValueChange<K>) => void,
  ): Promise<Unsubscribe>;
  async watch(
    names: string | readonly string[],
    callback: (value: never, change: ValueChange) => void,
  ): Promise<Unsubscribe> {
    this.host.assertRunning();
    const single = typeof names === 'string';
    const watched = single ? [names] : [...new Set(names)];
    if (watched.length === 0) {
      throw new InvalidOptionError('names', 'watch() needs at least one value name');
    }
    for (const name of watched) this.assertName(name);
    const deliver = (values: Record<string, unknown>, change: ValueChange): void => {
      try {
        const call = callback as (value: unknown, change: ValueChange) => void;
        call(single ? values[names] : values, change);
      } catch (error) {
        this.host.logOnce(
          `values-watch-callback:${this.key}`,
          `a watch callback of values "${this.group}" threw: ${String(error)}`,
        );
      }
    };
    const watcher = new Watcher(this, watched, deliver, this.host.maxNestingDepth);
    const unsubscribe = await this.host.listeners.add(this.channel, (payload) => {
      watcher.notified(payload);
    });
    const stopRereading = this.host.onReconnect(() => {
      watcher.reread();
    });
    watcher.start();
    return async () => {
      watcher.stop();
      stopRereading();
      await unsubscribe();
    };
  }

  /** @internal The values of `names` and the version they belong to, read atomically. */
  async snapshot(names: readonly string[]): Promise<Snapshot> {
    const reply = await this.host.transport.command(['HMGET', this.key, ...names, VERSION_FIELD]);
    const values: Record<string, unknown> = {};
    if (!Array.isArray(reply)) return { version: 0, values };
    names.forEach((name, i) => {
      const text = reply[i];
      if (isText(text)) values[name] = this.decode(text, name);
    });
    return { version: versionOf(reply[names.length]), values };
  }

  /** @internal */
  logOnce(reason: string, message: string): void {
    this.host.logOnce(reason, message);
  }

  private async write(tail: string, mode: 'set' | 'del', args: readonly string[]): Promise<number> {
    const reply = await WRITE.run(
      this.host.transport,
      [this.key],
      [this.channel, tail, mode, this.host.transport.publishCommand, ...args],
    );
    return Number(reply);
  }

  private decode(text: Buffer | string, name: string): unknown {
    return decodeValue(
      text,
      this.host.maxNestingDepth,
      `value "${name}" of group "${this.group}" (${this.key})`,
    );
  }

  private assertName(name: string): void {
    assertValidName('value name', name);
    if (name.startsWith('$') || UNSAFE_KEYS.has(name)) {
      throw new InvalidOptionError(
        'value name',
        `"${name}" is reserved (names starting with '$' belong to the group itself); choose another`,
      );
    }
  }
}

function isText(reply: unknown): reply is Buffer | string {
  return Buffer.isBuffer(reply) || typeof reply === 'string';
}

function versionOf(reply: unknown): number {
  return isText(reply) ? Number(reply.toString()) || 0 : 0;
}
