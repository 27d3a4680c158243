/**
 * A bounded mailbox. Messages wait in a FIFO of at most `capacity`; p-queue
 * runs up to `concurrency` drain loops, each taking the next message and
 * handling it, so messages start in arrival order and at most `concurrency`
 * are in progress. Scheduling runs rather than single messages keeps p-queue's
 * per-task bookkeeping off the per-message path.
 *
 * A mailbox with a `rateLimit` hands p-queue one task per message instead,
 * with its interval cap: p-queue then holds messages back until the rate
 * allows them, each task taking the next message of the FIFO.
 */
import { createRequire } from 'node:module';
import type PQueue from 'p-queue';
import type { ResolvedMailboxOptions } from './options.js';
import { Fifo } from '../util/index.js';

/**
 * A run of synchronous handlers yields to I/O (other actors, replies,
 * heartbeats) once it has kept the event loop this long; checked every
 * CHECK_EVERY messages. Yielding by count instead would cap a busy actor at
 * that many messages per event-loop turn, however cheap its handler.
 */
const YIELD_AFTER_MS = 10;
const CHECK_EVERY = 64;

/**
 * p-queue is loaded when the first message arrives, not when the actor is
 * created: a spawned child reaches READY ~10 ms sooner. Synchronous (require
 * of an ES module, supported from Node 20.19).
 */
const requireModule = createRequire(import.meta.url);
let PQueueClass: typeof PQueue | undefined;

export class Mailbox<T> {
  private queue: PQueue | undefined;
  private readonly items = new Fifo<T>();
  private drainLoops = 0;
  private inProgress = 0;
  /** Drain loops waiting for a message: woken by offer() instead of scheduling a new task. */
  private readonly sleeping: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly options: ResolvedMailboxOptions,
    /** Handles one message; returns a promise only when it has to wait. */
    private readonly handle: (item: T) => void | Promise<void>,
  ) {}

  /** Messages waiting, not yet being handled. */
  get waiting(): number {
    return this.items.length;
  }

  /** Messages being handled right now. */
  get running(): number {
    return this.inProgress;
  }

  /** Queues `item`; false (and nothing queued) when the mailbox is full. */
  offer(item: T): boolean {
    if (this.options.rateLimit !== undefined) return this.offerRateLimited(item);
    if (this.items.length >= this.options.capacity) return false;
    this.items.push(item);
    const sleeper = this.sleeping.pop();
    if (sleeper !== undefined) {
      sleeper();
    } else if (this.drainLoops < this.options.concurrency && !this.closed) {
      this.drainLoops++;
      void this.scheduler().add(() => this.drain());
    }
    return true;
  }

  private offerRateLimited(item: T): boolean {
    if (this.items.length >= this.options.capacity || this.closed) return false;
    this.items.push(item);
    void this.scheduler().add(async () => {
      const next = this.items.shift();
      if (next === undefined) return;
      this.inProgress++;
      try {
        await this.handle(next);
      } finally {
        this.inProgress--;
        if (this.isIdle()) for (const waiter of this.idleWaiters.splice(0)) waiter();
      }
    });
    return true;
  }

  /** Resolves when nothing waits and nothing runs. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Ends the drain loops once the messages already queued are handled. A
   * rate-limited mailbox hands what still waits to the handler at once (which
   * refuses it, the actor being stopped) instead of at the rate.
   */
  close(): void {
    this.closed = true;
    for (const sleeper of this.sleeping.splice(0)) sleeper();
    if (this.options.rateLimit !== undefined && this.queue !== undefined) {
      this.queue.clear();
      for (let item = this.items.shift(); item !== undefined; item = this.items.shift()) {
        void this.handle(item);
      }
    }
  }

  private isIdle(): boolean {
    return this.waiting === 0 && this.inProgress === 0;
  }

  private scheduler(): PQueue {
    if (this.queue === undefined) {
      PQueueClass ??= (requireModule('p-queue') as { default: typeof PQueue }).default;
      const rate = this.options.rateLimit;
      this.queue = new PQueueClass({
        concurrency: this.options.concurrency,
        ...(rate === undefined
          ? {}
          : { intervalCap: rate.count, interval: rate.intervalMs, strict: true }),
      });
    }
    return this.queue;
  }

  /**
   * A drain loop: p-queue runs up to `concurrency` of them. Once started, a loop
   * sleeps when the mailbox is empty and wakes on the next offer, so p-queue's
   * per-task bookkeeping is paid once per loop, not once per message.
   */
  private async drain(): Promise<void> {
    let sinceCheck = 0;
    let runStarted = performance.now();
    try {
      for (;;) {
        const item = this.items.shift();
        if (item === undefined) {
          if (this.isIdle()) for (const waiter of this.idleWaiters.splice(0)) waiter();
          if (this.closed) return;
          await new Promise<void>((resolve) => this.sleeping.push(resolve));
          runStarted = performance.now();
          continue;
        }
        this.inProgress++;
        try {
          const pending = this.handle(item);
          if (pending !== undefined) await pending;
        } finally {
          this.inProgress--;
        }
        if (++sinceCheck >= CHECK_EVERY) {
          sinceCheck = 0;
          if (performance.now() - runStarted >= YIELD_AFTER_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            runStarted = performance.now();
          }
        }
      }
    } finally {
      this.drainLoops--;
    }
  }
}
