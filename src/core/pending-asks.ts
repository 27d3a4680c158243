/**
 * Asks waiting for their reply, keyed by the ask's message id (which replies
 * carry as `correlationId`). Each has one timer; each settles exactly once.
 */

import { performance } from 'node:perf_hooks';
import { AskDurations } from './ask-durations.js';

interface PendingAsk {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  to: string;
  type: string;
  /** performance.now() when it was sent. */
  sentAt: number;
}

export class PendingAsks {
  private readonly asks = new Map<string, PendingAsk>();
  /** How long the asks took to settle. */
  readonly durations = new AskDurations();

  get size(): number {
    return this.asks.size;
  }

  /** Registers an ask; `onTimeout` builds the error used when `timeoutMs` passes first. */
  add(
    id: string,
    to: string,
    type: string,
    timeoutMs: number,
    resolve: (value: unknown) => void,
    reject: (error: Error) => void,
    onTimeout: () => Error,
  ): void {
    const sentAt = performance.now();
    const timer = setTimeout(() => {
      if (!this.asks.delete(id)) return;
      this.durations.observe((performance.now() - sentAt) / 1000);
      reject(onTimeout());
    }, timeoutMs);
    this.asks.set(id, { resolve, reject, timer, to, type, sentAt });
  }

  /** The ask a reply answers, without settling it; `undefined` when unknown or settled. */
  get(id: string): { to: string; type: string } | undefined {
    return this.asks.get(id);
  }

  /** Resolves the ask; false when it is no longer pending (timed out, failed, unknown). */
  resolve(id: string, value: unknown): boolean {
    const ask = this.take(id);
    if (ask === undefined) return false;
    ask.resolve(value);
    return true;
  }

  reject(id: string, error: Error): boolean {
    const ask = this.take(id);
    if (ask === undefined) return false;
    ask.reject(error);
    return true;
  }

  /** Rejects every pending ask, e.g. on stop. */
  rejectAll(error: () => Error): void {
    for (const id of [...this.asks.keys()]) this.reject(id, error());
  }

  private take(id: string): PendingAsk | undefined {
    const ask = this.asks.get(id);
    if (ask === undefined) return undefined;
    this.asks.delete(id);
    clearTimeout(ask.timer);
    this.durations.observe((performance.now() - ask.sentAt) / 1000);
    return ask;
  }
}
