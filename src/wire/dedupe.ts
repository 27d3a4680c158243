/**
 * Drops repeated messages (a publish resent after a reconnect, a captured
 * message replayed) by envelope id and `sentAt`, with bounded memory that a
 * stranger can neither turn into a replay nor use to silence a sender.
 *
 * - Messages sent longer ago than `windowMs + maxClockSkewMs`, or more than
 *   `maxClockSkewMs` in the future, are refused (`stale`, `future`): every
 *   other message is one whose repeat is still recognised.
 * - Framework senders number their messages `<sender nonce>.<counter base 36>`
 *   (an ask's id adds `.<16 random characters>`, which dedupe ignores),
 *   and one sender's messages to one recipient (one channel) arrive in the
 *   order sent, with counters and `sentAt` that only grow; to different
 *   channels they need not (on a Redis Cluster each channel has its shard).
 *   So a mark per sender and recipient (highest counter, latest `sentAt`) suffices: below the mark and not sent later is a repeat; above
 *   the counter but sent earlier cannot come from that sender (`out-of-order`).
 *   A forged mark (a huge counter) is replaced by the next message that is
 *   sent later with a lower counter, so one forgery silences a sender for at
 *   most `maxClockSkewMs`, and no sequence of forgeries lowers the `sentAt`
 *   a repeat is compared with.
 * - Other ids (foreign clients; senders beyond `maxSenders` while every mark is
 *   recent) are remembered exactly, in two generations of `maxEntries / 2`
 *   rotated every `windowMs + 2 * maxClockSkewMs`. A generation forgotten
 *   early (a flood) raises a floor: exactly remembered messages sent before
 *   it could be repeats of forgotten ones and are refused as `stale`.
 */

import { randomFillSync } from 'node:crypto';

/** What {@link RecentIds.check} made of a message. */
export type Sighting = 'first' | 'duplicate' | 'out-of-order' | 'stale' | 'future';

export interface RecentIdsOptions {
  windowMs: number;
  /** Most ids remembered exactly (foreign ids), over both generations. */
  maxEntries: number;
  maxClockSkewMs: number;
  /** Most senders whose mark is kept. @default 10000 */
  maxSenders?: number;
  now?: () => number;
}

interface SenderMark {
  counter: number;
  sentAt: number;
}

/** `<nonce>.<counter>`, with `.<16 random characters>` on asks (what replies are matched by). */
const FRAMEWORK_ID = /^[\w-]{12}\.[0-9a-z]{1,11}(?:\.[\w-]{16})?$/;

export class RecentIds {
  private readonly marks = new Map<string, SenderMark>();
  private current = new Set<string>();
  private previous = new Set<string>();
  private generationStart: number;
  /** Exactly remembered messages sent at or before this may repeat a forgotten one. */
  private floor = -Infinity;
  private readonly generationSize: number;
  private readonly generationMs: number;
  private readonly maxSenders: number;
  private readonly now: () => number;

  constructor(private readonly options: RecentIdsOptions) {
    this.now = options.now ?? Date.now;
    this.generationStart = this.now();
    this.generationSize = Math.max(1, Math.floor(options.maxEntries / 2));
    this.generationMs = options.windowMs + 2 * options.maxClockSkewMs;
    this.maxSenders = options.maxSenders ?? 10_000;
  }

  /** Records the message `id` sent at `sentAt` to `recipient`, and says whether it is new. */
  check(id: string, sentAt: number, now = this.now(), recipient = ''): Sighting {
    const skew = this.options.maxClockSkewMs;
    if (sentAt > now + skew) return 'future';
    if (sentAt < now - this.options.windowMs - skew) return 'stale';
    if (now - this.generationStart >= this.generationMs) this.rotate(now);
    if (id.length <= 41 && FRAMEWORK_ID.test(id)) {
      const dot = id.indexOf('.');
      const sender = id.slice(0, dot) + recipient;
      // parseInt stops at the second dot, before an ask's random part.
      const counter = parseInt(id.slice(dot + 1), 36);
      const mark = this.marks.get(sender);
      if (mark !== undefined) return this.againstMark(mark, counter, sentAt);
      if (this.marks.size < this.maxSenders) {
        this.marks.set(sender, { counter, sentAt });
        return 'first';
      }
      // Every mark is recent (stale ones go at each rotation): remember this id exactly.
    }
    return this.exactly(id, sentAt, now);
  }

  private againstMark(mark: SenderMark, counter: number, sentAt: number): Sighting {
    if (counter > mark.counter) {
      if (sentAt < mark.sentAt) return 'out-of-order';
    } else if (sentAt <= mark.sentAt) {
      return 'duplicate';
    }
    // Higher and not earlier: the next message. Lower but later: the mark was forged.
    mark.counter = counter;
    mark.sentAt = sentAt;
    return 'first';
  }

  private exactly(id: string, sentAt: number, now: number): Sighting {
    if (sentAt <= this.floor) return 'stale';
    if (this.current.has(id) || this.previous.has(id)) return 'duplicate';
    if (this.current.size >= this.generationSize) this.rotate(now);
    this.current.add(id);
    return 'first';
  }

  private rotate(now: number): void {
    // The generation forgotten now was received before generationStart; its
    // messages were sent at most maxClockSkewMs after that.
    if (this.previous.size > 0) {
      this.floor = Math.max(this.floor, this.generationStart + this.options.maxClockSkewMs);
    }
    this.previous = this.current;
    this.current = new Set();
    this.generationStart = now;
    // A mark older than the acceptance window protects nothing: its repeats are stale.
    const oldest = now - this.options.windowMs - this.options.maxClockSkewMs;
    for (const [sender, mark] of this.marks) if (mark.sentAt < oldest) this.marks.delete(sender);
  }
}

/**
 * Random characters for ask ids: 4,092 bytes from the CSPRNG at a time, as
 * one base64url text that 341 asks take 16 characters (96 bits) each of. A
 * slice of it costs far less than encoding 12 bytes per ask.
 */
const RANDOM_CHARS_PER_ASK = 16;
const randomPool = Buffer.allocUnsafe(12 * 341);
let randomText = '';
let randomAt = 0;

/** 96 random bits as 16 base64url characters. */
function randomPart(): string {
  if (randomAt + RANDOM_CHARS_PER_ASK > randomText.length) {
    randomFillSync(randomPool);
    randomText = randomPool.toString('base64url');
    randomAt = 0;
  }
  const part = randomText.slice(randomAt, randomAt + RANDOM_CHARS_PER_ASK);
  randomAt += RANDOM_CHARS_PER_ASK;
  return part;
}

/** Makes ids `<nonce>.<counter>` for one sender, the form {@link RecentIds} tracks cheaply. */
export class MessageIds {
  private counter = 0;

  constructor(private readonly nonce: string) {
    if (!/^[\w-]{12}$/.test(nonce))
      throw new Error('a sender nonce is 12 characters of [A-Za-z0-9_-]');
  }

  next(): string {
    return `${this.nonce}.${(this.counter++).toString(36)}`;
  }

  /**
   * An ask's id: the next number, then 96 random bits (16 base64url
   * characters), so that nobody who has not seen the ask can answer it.
   */
  nextAsk(): string {
    return `${this.nonce}.${(this.counter++).toString(36)}.${randomPart()}`;
  }
}
