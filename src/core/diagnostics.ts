/**
 * What an actor system counts and says about the messages it did not handle:
 * drop counters by cause, refusals by reason, and the rate-limited log lines
 * about both. Every drop anywhere in the system is counted here.
 */
import type { Logger } from '../util/index.js';
import { RateLimitedLog } from '../util/index.js';
import type { EnvelopeKind, Refusal } from '../wire/index.js';
import { type DropCounts, emptyDropCounts } from './stats.js';

export class Diagnostics {
  /** Envelopes received on this system's mailboxes (valid or not). */
  received = 0;
  /** Envelopes sent, by kind (the outbox counts them). */
  readonly sentByKind: Record<EnvelopeKind, number> = { tell: 0, ask: 0, reply: 0, error: 0 };
  /** Valid envelopes received, by kind. */
  readonly receivedByKind: Record<EnvelopeKind, number> = { tell: 0, ask: 0, reply: 0, error: 0 };
  private readonly drops: DropCounts = emptyDropCounts();
  private readonly invalidByReason: Record<string, number> = {};
  private readonly log: RateLimitedLog;

  constructor(
    logger: Logger,
    /** Prefix of every line: the system's address. */
    private readonly address: string,
  ) {
    this.log = new RateLimitedLog(logger);
  }

  /** Counts a message not processed; logs it at a bounded rate per `reason`. */
  drop(kind: keyof DropCounts, reason: string, message: string): void {
    this.drops[kind]++;
    this.log.warn(reason, `${this.address}: ${message}`);
  }

  /** Counts refused input under `invalid` and its reason. */
  refuse(refusal: Refusal): void {
    this.drops.invalid++;
    this.invalidByReason[refusal.reason] = (this.invalidByReason[refusal.reason] ?? 0) + 1;
    this.log.warn(
      `invalid:${refusal.reason}`,
      `${this.address}: dropped invalid message (${refusal.reason}: ${refusal.detail})`,
    );
  }

  /** Logs an event at a bounded rate per `reason`, without counting it as a drop. */
  logOnce(reason: string, message: string): void {
    this.log.warn(reason, `${this.address}: ${message}`);
  }

  /** Copies of the counters, for stats() and health. */
  counters(): { dropped: DropCounts; invalidByReason: Record<string, number> } {
    return { dropped: { ...this.drops }, invalidByReason: { ...this.invalidByReason } };
  }
}
