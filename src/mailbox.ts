/**
 * A bounded mailbox: messages wait in a p-queue and are handled `concurrency`
 * at a time (1 by default, so in arrival order). `offer` refuses once
 * `capacity` messages wait, so the queue can never grow without bound.
 */
import PQueue from 'p-queue';
import type { ResolvedMailboxOptions } from './options.js';

export class Mailbox {
  private readonly queue: PQueue;

  constructor(readonly options: ResolvedMailboxOptions) {
    this.queue = new PQueue({ concurrency: options.concurrency });
  }

  /** Messages waiting, not yet being handled. */
  get waiting(): number {
    return this.queue.size;
  }

  /** Messages being handled right now. */
  get running(): number {
    return this.queue.pending;
  }

  /** Queues `task`; false (and nothing queued) when the mailbox is full. */
  offer(task: () => Promise<void>): boolean {
    if (this.queue.size >= this.options.capacity) return false;
    void this.queue.add(task);
    return true;
  }

  /** Resolves when nothing waits and nothing runs. */
  idle(): Promise<void> {
    return this.queue.onIdle();
  }
}
