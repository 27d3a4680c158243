/**
 * Warnings about refused or dropped input, which a stranger can cause at any
 * rate: the first event of each reason is logged, later ones are counted and
 * summed up in at most one line per reason per interval, and all reasons
 * together write at most a few lines per second. Wire data in the messages is
 * escaped onto one line and cut short, so it can neither forge log lines nor
 * flood the log; the counters (stats, health) say exactly how many there were.
 */
import { type Logger, printable } from './logger.js';

export interface RateLimitedLogOptions {
  /**
   * After the first line of a reason, at most one line per reason per interval.
   * @default 60000
   */
  intervalMs?: number;
  /**
   * Lines per second, all reasons together (bursts of twice that).
   * @default 10
   */
  linesPerSecond?: number;
  /**
   * Reasons remembered at once; beyond it the one remembered longest is forgotten.
   * @default 256
   */
  maxReasons?: number;
  now?: () => number;
}

/** Longest message written, in characters; the rest is cut. */
const MAX_MESSAGE_LENGTH = 1000;
/** Longest reason kept as a key (reasons may carry wire data). */
const MAX_REASON_LENGTH = 100;

interface ReasonState {
  lastLoggedAt: number;
  /** Events since the last line of this reason. */
  unlogged: number;
}

export class RateLimitedLog {
  private readonly reasons = new Map<string, ReasonState>();
  private readonly intervalMs: number;
  private readonly linesPerSecond: number;
  private readonly maxReasons: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  /** Lines the global rate dropped since the last line written. */
  private overBudget = 0;

  constructor(
    private readonly logger: Logger,
    options: RateLimitedLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.linesPerSecond = options.linesPerSecond ?? 10;
    this.maxReasons = options.maxReasons ?? 256;
    this.now = options.now ?? Date.now;
    this.tokens = 2 * this.linesPerSecond;
    this.refilledAt = this.now();
  }

  /** Reports one event of `reason` (logged, or counted toward the next line of that reason). */
  warn(reason: string, message: string): void {
    const key = reason.length > MAX_REASON_LENGTH ? reason.slice(0, MAX_REASON_LENGTH) : reason;
    const now = this.now();
    const state = this.reasons.get(key);
    if (state !== undefined && now - state.lastLoggedAt < this.intervalMs) {
      state.unlogged++;
      return;
    }
    const unlogged = state?.unlogged ?? 0;
    if (state === undefined) {
      if (this.reasons.size >= this.maxReasons) {
        const oldest = this.reasons.keys().next();
        if (oldest.done !== true) this.reasons.delete(oldest.value);
      }
      this.reasons.set(key, { lastLoggedAt: now, unlogged: 0 });
    } else {
      state.lastLoggedAt = now;
      state.unlogged = 0;
    }
    if (!this.takeToken(now)) {
      this.overBudget++;
      // Still owed: the next line of this reason reports it.
      const owed = this.reasons.get(key);
      if (owed !== undefined) owed.unlogged += unlogged + 1;
      return;
    }
    const text = printable(
      message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message,
    );
    const seconds = Math.round(this.intervalMs / 1000);
    const tail =
      state === undefined
        ? `further "${printable(key)}" events are counted, and logged at most once in ${seconds} s`
        : `${unlogged} more "${printable(key)}" events since the last line`;
    const dropped = this.overBudget > 0 ? `; ${this.overBudget} lines over the log rate limit` : '';
    this.overBudget = 0;
    this.logger.warn(`${text} (${tail}${dropped})`);
  }

  private takeToken(now: number): boolean {
    const capacity = 2 * this.linesPerSecond;
    this.tokens = Math.min(
      capacity,
      this.tokens + ((now - this.refilledAt) * this.linesPerSecond) / 1000,
    );
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
