/**
 * Every Redis channel and key name the framework uses is built here.
 *
 * - A process's mailbox address is `<hostname>-<pid>`; a second actor system in
 *   the same process gets `<hostname>-<pid>.2`, and so on.
 * - The main actor of a process lives at the process address. Further actors in
 *   the process live at `<process address>/<local name>`.
 * - An address or name `a` is the pub/sub channel `<namespace>:a`.
 * - Keys are `<namespace>:<kind>:<…>`, e.g. `ra:registry:clock`; a key of one
 *   object (a process, a name) is `<namespace>:<kind>:{<object>}`, so that every
 *   key of that object shares a hash tag (one Redis Cluster slot), e.g.
 *   `ra:name:{laptop-41233}` and `ra:actors:{laptop-41233}`.
 */
import os from 'node:os';
import { InvalidOptionError } from '../errors.js';

/** Namespace used when neither the option nor `REDIS_ACTORS_NAMESPACE` is set. */
export const DEFAULT_NAMESPACE = 'ra';

const CHANNEL_CACHE_SIZE = 4096;

/** Characters that would break channel patterns or the `namespace:` prefix are refused. */
const VALID_NAME = /^[^\s:*?[\]\\]{1,200}$/;

/** The namespace from the option, else `REDIS_ACTORS_NAMESPACE`, else {@link DEFAULT_NAMESPACE}. */
export function resolveNamespace(option?: string): string {
  const namespace = option ?? process.env.REDIS_ACTORS_NAMESPACE ?? DEFAULT_NAMESPACE;
  assertValidName('namespace', namespace);
  return namespace;
}

/** Whether `value` is usable as an address, name or namespace (and so as a mailbox channel). */
export function isValidName(value: string): boolean {
  return VALID_NAME.test(value);
}

/** Throws {@link InvalidOptionError} unless `value` is usable as an address, name or namespace. */
export function assertValidName(what: string, value: string): void {
  if (!VALID_NAME.test(value)) {
    throw new InvalidOptionError(
      what,
      `"${value}" must be 1-200 characters without spaces, ':', '*', '?', '[', ']' or '\\'`,
    );
  }
}

/** `<hostname>-<pid>`, with `.<instance>` for the second and later system of a process. */
export function processAddress(instance = 1, hostname = os.hostname(), pid = process.pid): string {
  const host = hostname.replace(/[^\w.-]/g, '_');
  return instance === 1 ? `${host}-${pid}` : `${host}-${pid}.${instance}`;
}

/**
 * Actor systems started in this process so far: the one per-process counter of
 * the framework, so that a second system gets `<hostname>-<pid>.2`.
 */
let systemsInProcess = 0;

/** The address of the next actor system started in this process. */
export function nextProcessAddress(): string {
  return processAddress(++systemsInProcess);
}

/** Address of an actor that is not the main actor of its process. */
export function localActorAddress(process: string, localName: string): string {
  assertValidName('actor name', localName);
  return `${process}/${localName}`;
}

/** Channel and key names of one namespace. */
export class Names {
  private readonly prefix: string;
  private readonly channels = new Map<string, string>();

  constructor(readonly namespace: string) {
    assertValidName('namespace', namespace);
    this.prefix = `${namespace}:`;
  }

  /** The pub/sub channel of a mailbox address or actor name. */
  channel(address: string): string {
    // Cached: the hot path asks for the same few channels for every message.
    let channel = this.channels.get(address);
    if (channel === undefined) {
      channel = this.prefix + address;
      if (this.channels.size >= CHANNEL_CACHE_SIZE) this.channels.clear();
      this.channels.set(address, channel);
    }
    return channel;
  }

  /** The address of a channel of this namespace, or `undefined` for a foreign channel. */
  addressOf(channel: string): string | undefined {
    return channel.startsWith(this.prefix) ? channel.slice(this.prefix.length) : undefined;
  }

  /** A glob pattern matching every mailbox channel of the namespace. */
  allChannels(): string {
    return `${this.prefix}*`;
  }

  /** A key of the namespace, e.g. `key('registry', 'clock')` → `ra:registry:clock`. */
  key(kind: string, ...parts: string[]): string {
    return [this.namespace, kind, ...parts].join(':');
  }

  /**
   * A key of one object, e.g. `objectKey('name', 'clock')` → `ra:name:{clock}`: the
   * keys of one object (a process's address claim and its actor entries) share
   * the hash tag `{<object>}`, so that a script may touch them together.
   */
  objectKey(kind: string, object: string): string {
    return `${this.prefix}${kind}:{${object}}`;
  }

  /** The channel of topic `name`, `<namespace>:topic:<name>`. */
  topicChannel(name: string): string {
    assertValidName('topic name', name);
    return this.key('topic', name);
  }
}
