/**
 * The consumer of one durable mailbox in this process: reads entries (at most
 * `concurrency` unsettled at a time, so a consumer never holds more), hands
 * them to the actor, and settles them. Acknowledged entries are deleted from
 * the stream (XACK + XDEL, one of each per event-loop turn).
 *
 * Redelivery goes by liveness, not by idle time: every scan interval the
 * consumers holding entries are listed (XPENDING), and the entries of one
 * whose process is gone are taken over, so a slow handler that is still
 * working never sees its message run twice. `claimAfterMs`, when given,
 * takes over entries idle that long from anyone (a consumer alive but stuck).
 * A failed handler's entry is retried by this consumer after a backoff; an
 * entry delivered `maxDeliveries` times goes to the dead letters.
 */
import type {
  CommandArgument,
  DedicatedConnection,
  RespValue,
  Transport,
} from '../transport/index.js';
import { Delivery, type DeliverySettler } from './delivery.js';
import type { DurableKeys } from './durable-keys.js';
import { BURY, CLAIM, READ } from './durable-scripts.js';

/** Seconds a reader blocks for a wake-up: below the connection's liveness timeout. */
const BLOCK_SECONDS = '1';
/** Most consumers a scan looks at (anyone may create consumers). */
const MAX_CONSUMERS_SCANNED = 100;
/** Longest pause before a failed read is tried again. */
const MAX_READ_BACKOFF_MS = 1000;
/** Longest wait before a failed handler's message is retried. */
const MAX_RETRY_DELAY_MS = 30_000;

export interface DurableInboxOptions {
  transport: Transport;
  keys: DurableKeys;
  /** The consumer group: the mailbox's name. */
  group: string;
  /** This consumer: a claim token of this process, `<actor address>|<nonce>`. */
  consumer: string;
  /** Where released entries go: a consumer no live process has, taken over at the next scan. */
  releasedConsumer: string;
  concurrency: number;
  maxDeliveries: number;
  claimAfterMs: number | undefined;
  retryDelayMs: number;
  maxEntryBytes: number;
  deadLetterCapacity: number;
  scanIntervalMs: number;
  /** Whether the process of a consumer (a claim token) is live. */
  isLive(consumer: string): Promise<boolean>;
  /** Hands an entry to the actor; its delivery must be settled once. */
  deliver(payload: Buffer, delivery: Delivery): void;
  /** The stream or its group is gone (deleted by someone): create them again. */
  redeclare(): Promise<void>;
  logOnce(reason: string, message: string): void;
}

export class DurableInbox implements DeliverySettler {
  private connection: DedicatedConnection | undefined;
  /** Deliveries not settled yet, and settled ones waiting for their retry. */
  private holding = 0;
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private acks: string[] = [];
  private ackScheduled = false;
  private reading = false;
  private blocking = false;
  /** The last read found the stream drained: only a wake-up (or a timeout) makes reading worth it. */
  private drained = false;
  private readBackoffMs = 0;
  private scanTimer: NodeJS.Timeout | undefined;
  /**
   * Consumers found gone whose entries are still to be taken over: taken
   * before any new entry, so that a redelivery neither waits behind new work
   * nor for a scan that happens to find a slot free.
   */
  private readonly orphans = new Set<string>();
  private scanning = false;
  private closed = false;

  constructor(private readonly options: DurableInboxOptions) {}

  async start(): Promise<void> {
    this.connection = await this.options.transport.openDedicated(`inbox-${this.options.group}`);
    this.scanTimer = setInterval(() => {
      this.scan();
    }, this.options.scanIntervalMs).unref();
    // What a consumer that died left (this actor's own previous process, often) comes first.
    this.scan();
  }

  /** Stops taking entries; what is being handled goes on (settled as usual). */
  async stopReading(): Promise<void> {
    this.closed = true;
    clearInterval(this.scanTimer);
    await this.connection?.unblock().catch(() => undefined);
  }

  /**
   * After {@link stopReading} and the handlers in progress: hands what this
   * consumer still holds (entries waiting for a retry, handlers that did not
   * finish) to the released consumer, which the next scan of any member takes
   * over, and leaves the group.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    this.flushAcks();
    const { transport, keys, group, consumer, releasedConsumer } = this.options;
    try {
      const held = await transport.command([
        'XPENDING',
        keys.stream,
        group,
        '-',
        '+',
        '1000',
        consumer,
      ]);
      const ids = Array.isArray(held) ? held.map((each) => String((each as RespValue[])[0])) : [];
      if (ids.length > 0) {
        // JUSTID: a release is no delivery, and does not count against maxDeliveries.
        await transport.command([
          'XCLAIM',
          keys.stream,
          group,
          releasedConsumer,
          '0',
          ...ids,
          'JUSTID',
        ]);
      }
      await transport.command(['XGROUP', 'DELCONSUMER', keys.stream, group, consumer]);
    } catch (error) {
      this.options.logOnce('durable-release', `${group}: entries not released: ${String(error)}`);
    } finally {
      await this.connection?.close(0);
    }
  }

  ack(delivery: Delivery): void {
    this.holding--;
    this.acks.push(delivery.entryId);
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      setImmediate(() => {
        this.flushAcks();
      });
    }
    this.pump();
  }

  retry(delivery: Delivery, error: unknown): void {
    if (delivery.deliveryCount >= this.options.maxDeliveries || this.closed) {
      if (this.closed) this.holding--;
      else this.bury(delivery, String(error));
      return;
    }
    const delay = Math.min(
      this.options.retryDelayMs * 2 ** (delivery.deliveryCount - 1),
      MAX_RETRY_DELAY_MS,
    );
    const timer = setTimeout(() => {
      this.retries.delete(delivery.entryId);
      this.takeOver(this.options.consumer, delivery.entryId, String(error));
    }, delay);
    timer.unref();
    this.retries.set(delivery.entryId, timer);
  }

  bury(delivery: Delivery, reason: string): void {
    this.holding--;
    const { transport, keys, group, consumer } = this.options;
    BURY.send(
      transport,
      [keys.stream, keys.dead],
      [
        group,
        consumer,
        delivery.entryId,
        reason,
        String(delivery.deliveryCount),
        String(this.options.deadLetterCapacity),
        String(Date.now()),
        String(this.options.maxEntryBytes),
      ],
      (error) => {
        if (error !== null) this.options.logOnce('durable-bury', `${group}: ${String(error)}`);
      },
    );
    this.pump();
  }

  /** Left pending with this consumer: close() hands it on. */
  release(): void {
    this.holding--;
  }

  /** Reads new entries while there is room; blocks for a wake-up when there are none. */
  private pump(): void {
    if (this.reading || this.closed) return;
    const room = this.options.concurrency - this.holding;
    if (room <= 0) return;
    const [orphan] = this.orphans;
    if (orphan !== undefined) {
      this.adopt(orphan, room);
      return;
    }
    if (this.drained && this.blocking) return;
    this.reading = true;
    this.flushAcks();
    const { transport, keys, group, consumer } = this.options;
    const args: CommandArgument[] = [
      group,
      consumer,
      String(room),
      String(this.options.maxEntryBytes),
      String(this.options.deadLetterCapacity),
      String(Date.now()),
    ];
    READ.send(transport, [keys.stream, keys.dead, keys.wake], args, (error, reply) => {
      this.reading = false;
      if (error !== null) {
        this.readFailed(error);
        return;
      }
      this.readBackoffMs = 0;
      const entries = Array.isArray(reply) ? reply : [];
      for (const entry of entries) this.handOut(entry, 1);
      this.drained = entries.length < room;
      if (this.drained) this.block();
      else this.pump();
    });
  }

  private block(): void {
    if (this.blocking || this.closed || this.connection === undefined) return;
    this.blocking = true;
    this.connection.call(['BLPOP', this.options.keys.wake, BLOCK_SECONDS]).then(
      () => {
        this.blocking = false;
        this.drained = false;
        this.pump();
      },
      (error: unknown) => {
        this.blocking = false;
        this.drained = false;
        this.readFailed(error as Error);
      },
    );
  }

  private readFailed(error: Error): void {
    if (this.closed) return;
    const { group } = this.options;
    this.options.logOnce(
      'durable-read',
      `${group}: cannot read the durable mailbox: ${error.message}`,
    );
    this.readBackoffMs = Math.min(Math.max(this.readBackoffMs * 2, 50), MAX_READ_BACKOFF_MS);
    const again = (): void => {
      setTimeout(() => {
        this.pump();
      }, this.readBackoffMs).unref();
    };
    if (/NOGROUP/.test(error.message)) this.options.redeclare().then(again, again);
    else again();
  }

  /** One `{id, payload[, deliveries]}` of a script's reply, to the actor. */
  private handOut(entry: RespValue, deliveries: number): void {
    if (!Array.isArray(entry)) return;
    const [id, payload, count] = entry;
    if (!Buffer.isBuffer(payload)) return;
    this.holding++;
    const delivery = new Delivery(String(id), typeof count === 'number' ? count : deliveries, this);
    this.options.deliver(payload, delivery);
  }

  /** Takes over up to `room` entries of a consumer that is gone, then reads on. */
  private adopt(orphan: string, room: number): void {
    this.reading = true;
    this.claim(
      orphan,
      '',
      `the consumer ${orphan} was gone while it held this message`,
      room,
      (taken) => {
        this.reading = false;
        // Fewer than asked: it holds no more (the script removed it from the group).
        if (taken === undefined || taken < room) this.orphans.delete(orphan);
        this.pump();
      },
    );
  }

  /** Takes over entries: one of ours to retry (`entryId`), or those of a consumer that is gone. */
  private takeOver(from: string, entryId: string, error: string, room = 1): void {
    const retrying = entryId !== '';
    this.claim(from, entryId, error, room, () => {
      // A retried entry held its place: the redelivery takes it (or it is gone).
      if (retrying) this.holding--;
      this.pump();
    });
  }

  /** Runs CLAIM and hands out what it took; `then` gets how many (undefined when it failed). */
  private claim(
    from: string,
    entryId: string,
    error: string,
    room: number,
    then: (taken: number | undefined) => void,
  ): void {
    const { transport, keys, group, consumer } = this.options;
    CLAIM.send(
      transport,
      [keys.stream, keys.dead],
      [
        group,
        consumer,
        from,
        String(this.options.claimAfterMs ?? 0),
        String(room),
        String(this.options.maxDeliveries),
        String(this.options.maxEntryBytes),
        String(this.options.deadLetterCapacity),
        String(Date.now()),
        error,
        entryId,
      ],
      (failure, reply) => {
        if (failure !== null) {
          this.options.logOnce(
            'durable-claim',
            `${group}: cannot take entries over: ${failure.message}`,
          );
          then(undefined);
          return;
        }
        const entries = Array.isArray(reply) ? reply : [];
        for (const entry of entries) this.handOut(entry, 2);
        then(entries.length);
      },
    );
  }

  /** Finds consumers whose process is gone (and, with claimAfterMs, idle entries) and takes their entries. */
  private scan(): void {
    if (this.scanning || this.closed) return;
    this.scanning = true;
    void this.scanNow()
      .catch((error: unknown) => {
        this.options.logOnce(
          'durable-scan',
          `${this.options.group}: scan failed: ${String(error)}`,
        );
      })
      .finally(() => {
        this.scanning = false;
        this.pump();
      });
  }

  private async scanNow(): Promise<void> {
    const { transport, keys, group, consumer } = this.options;
    const summary = await transport.command(['XPENDING', keys.stream, group]);
    const consumers = Array.isArray(summary) && Array.isArray(summary[3]) ? summary[3] : [];
    for (const each of consumers.slice(0, MAX_CONSUMERS_SCANNED)) {
      if (this.closed) return;
      const name = Array.isArray(each) ? String(each[0]) : '';
      if (name === '' || name === consumer || this.orphans.has(name)) continue;
      if (this.orphans.size >= MAX_CONSUMERS_SCANNED) break;
      if (!(await this.options.isLive(name))) this.orphans.add(name);
    }
    this.pump();
    const room = this.options.concurrency - this.holding;
    if (this.options.claimAfterMs !== undefined && room > 0) {
      this.takeOver(
        '',
        '',
        `not handled within claimAfterMs (${this.options.claimAfterMs} ms)`,
        room,
      );
    }
  }

  private flushAcks(): void {
    this.ackScheduled = false;
    if (this.acks.length === 0) return;
    const ids = this.acks;
    this.acks = [];
    const { transport, keys, group } = this.options;
    const report = (error: Error | null): void => {
      if (error !== null)
        this.options.logOnce('durable-ack', `${group}: ack failed: ${error.message}`);
    };
    transport.send(['XACK', keys.stream, group, ...ids], report);
    transport.send(['XDEL', keys.stream, ...ids], report);
  }
}
