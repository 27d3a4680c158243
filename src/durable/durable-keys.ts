/**
 * The keys of the durable mailbox of a name, all with the hash tag
 * `{<name>}` (one Redis Cluster slot, so that one script may touch them):
 * `<ns>:inbox:{<name>}` the stream (consumer group `<name>`),
 * `<ns>:durable:{<name>}` its settings (their presence marks the name as
 * durable), `<ns>:wake:{<name>}` the list readers block on,
 * `<ns>:dead:{<name>}` the dead letters, `<ns>:once:{<name>}:<key>` the marks
 * of `ctx.once`.
 */
import type { Names } from '../wire/index.js';

export interface DurableKeys {
  readonly stream: string;
  readonly config: string;
  readonly wake: string;
  readonly dead: string;
}

export function durableKeys(names: Names, name: string): DurableKeys {
  return {
    stream: names.objectKey('inbox', name),
    config: names.objectKey('durable', name),
    wake: names.objectKey('wake', name),
    dead: names.objectKey('dead', name),
  };
}

/** The key of a `ctx.once` mark of the durable mailbox `name`. */
export function onceKey(names: Names, name: string, key: string): string {
  return `${names.objectKey('once', name)}:${key}`;
}
