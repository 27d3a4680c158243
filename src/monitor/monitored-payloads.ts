/**
 * Which commands of a MONITOR feed carry a payload of the namespace, and
 * where it is in them:
 *
 * - `PUBLISH` / `SPUBLISH <ns>:<target> <payload>`, in any database (pub/sub
 *   ignores databases), whoever sent it, a script included;
 * - `XADD <ns>:inbox:{<name>} … m <payload>`, in the URL's database: an append
 *   to a durable mailbox (docs/PROTOCOL.md, "Durable mailboxes"). The
 *   framework appends with a script (`EVALSHA <APPEND> … <payloads>`), whose
 *   XADDs Redis shows too, as commands of the client `lua`: each appended
 *   payload shows once, as an XADD, and the EVALSHA itself is not decoded
 *   (a payload refused as over capacity is never appended, so never shown).
 *
 * Only the command's name and key or channel are decoded for every other
 * command; payloads only once they are known to be the namespace's.
 */
import type { MonitoredCommand } from '../transport/index.js';
import type { Names } from '../wire/index.js';
import type { PayloadSource } from './monitor-event.js';

/** A payload found in a command, with where it was seen. */
export interface FoundPayload {
  source: PayloadSource;
  /** `undefined` when only the head of the line was read (an oversized line). */
  payload: Buffer | undefined;
}

/** XADD options that come before the entry id, and how many arguments each takes. */
function xaddOptionLength(command: MonitoredCommand, at: number): number {
  const option = command.arg(at)?.toString('latin1').toUpperCase();
  if (option === 'NOMKSTREAM') return 1;
  if (option !== 'MAXLEN' && option !== 'MINID') return 0;
  let length = 2;
  const operator = command.arg(at + 1)?.toString('latin1');
  if (operator === '=' || operator === '~') length++;
  if (
    command
      .arg(at + length)
      ?.toString('latin1')
      .toUpperCase() === 'LIMIT'
  )
    length += 2;
  return length;
}

export class MonitoredPayloads {
  private readonly prefix: Buffer;
  private readonly inboxPrefix: string;

  constructor(
    private readonly names: Names,
    /** The database whose XADDs are the namespace's (the one the URL selects). */
    private readonly db: number,
  ) {
    this.prefix = Buffer.from(`${names.namespace}:`);
    this.inboxPrefix = `${names.namespace}:inbox:{`;
  }

  /**
   * The namespace payload `command` carries, if any. With `whole` false (the
   * head of a line too long to read) the payload is not looked for.
   */
  find(command: MonitoredCommand, at: number, whole: boolean): FoundPayload | undefined {
    const name = command.name;
    if (name === 'publish' || name === 'spublish') {
      const channel = command.arg(1);
      if (channel === undefined || !this.isOurs(channel)) return undefined;
      const text = channel.toString('utf8');
      return {
        source: {
          at,
          channel: text,
          target: this.names.addressOf(text) ?? text,
          signedFor: text,
          command: name === 'publish' ? 'PUBLISH' : 'SPUBLISH',
          client: command.client,
        },
        payload: whole ? command.arg(2) : undefined,
      };
    }
    if (name === 'xadd' && command.db === this.db) return this.appended(command, at, whole);
    return undefined;
  }

  private isOurs(channel: Buffer): boolean {
    return (
      channel.length > this.prefix.length &&
      channel.subarray(0, this.prefix.length).equals(this.prefix)
    );
  }

  private appended(
    command: MonitoredCommand,
    at: number,
    whole: boolean,
  ): FoundPayload | undefined {
    const key = command.arg(1)?.toString('utf8');
    if (key?.startsWith(this.inboxPrefix) !== true || !key.endsWith('}')) return undefined;
    const target = key.slice(this.inboxPrefix.length, -1);
    if (target === '') return undefined;
    const source: PayloadSource = {
      at,
      channel: key,
      target,
      // An entry is signed as it would be published on the name's channel.
      signedFor: this.names.channel(target),
      command: 'XADD',
      client: command.client,
    };
    if (!whole) return { source, payload: undefined };
    let index = 2;
    for (let length = xaddOptionLength(command, index); length > 0;) {
      index += length;
      length = xaddOptionLength(command, index);
    }
    // The entry id, then field-value pairs; a reader takes the last `m`, so this shows that one.
    let payload: Buffer | undefined;
    for (index++; command.arg(index + 1) !== undefined; index += 2) {
      if (command.arg(index)?.toString('latin1') === 'm') payload = command.arg(index + 1);
    }
    return payload === undefined ? undefined : { source, payload };
  }
}
