/**
 * The way in: every payload from every mailbox of the system comes through
 * here, in arrival order. It is decoded (refused with a counted reason when it
 * must be), deduplicated, fetched when claim-checked, and routed: replies to
 * the asks waiting for them, tells and asks to their actor's mailbox, health
 * asks answered at once.
 */
import type { Delivery } from '../durable/index.js';
import {
  InvalidMessageError,
  MailboxFullError,
  MessageTooLargeError,
  ShuttingDownError,
} from '../errors.js';
import {
  type AskEnvelope,
  type ClaimCheck,
  type Codec,
  type Envelope,
  HEALTH_TYPE,
  REPORT_TYPE,
  PROBE_TYPE,
  type PayloadAuth,
  RecentIds,
  Refusal,
  type RequestEnvelope,
  type Sighting,
  isReply,
  isSigned,
} from '../wire/index.js';
import type { AskClient } from './ask-client.js';
import { ArrivalOrder } from './arrival-order.js';
import type { ConnectionHealth } from './connection-health.js';
import type { Diagnostics } from './diagnostics.js';
import type { HealthReport } from './health.js';
import type { ProcessReport } from './process-report.js';
import type { HostedActor } from './hosted-actor.js';
import type { Outbox } from './outbox.js';

export interface DispatcherParts {
  address: string;
  codec: Codec;
  claimCheck: ClaimCheck;
  diagnostics: Diagnostics;
  outbox: Outbox;
  asks: AskClient;
  connection: ConnectionHealth;
  maxMessageBytes: number;
  /** The namespace secret, when there is one: every payload must be signed with it. */
  auth: PayloadAuth | undefined;
  dedupe: { windowMs: number; maxEntries: number; maxClockSkewMs: number };
  isRunning(): boolean;
  /** What a health ask to `actor` (or to the process) answers. */
  healthOf(actor: HostedActor | undefined): HealthReport;
  /** What a `$report` ask to the process answers. */
  report(): ProcessReport;
}

export class Dispatcher {
  private readonly arrivals = new ArrivalOrder();
  private readonly recentIds: RecentIds;

  constructor(private readonly parts: DispatcherParts) {
    this.recentIds = new RecentIds(parts.dedupe);
  }

  /**
   * A payload arrived on `channel`, a mailbox of `target` (undefined: the
   * process mailbox hosts no actor). With a namespace secret it must be signed
   * for that channel: checked first, before anything parses it.
   */
  receive(payload: Buffer, target: HostedActor | undefined, channel: string): void {
    const { auth } = this.parts;
    if (auth !== undefined) {
      const inner = auth.verify(channel, payload);
      if (inner instanceof Refusal) {
        this.parts.diagnostics.received++;
        this.parts.diagnostics.refuse(inner);
        return;
      }
      payload = inner;
    } else if (isSigned(payload)) {
      this.parts.diagnostics.received++;
      this.parts.diagnostics.refuse(
        new Refusal(
          'signed',
          `a signed payload on ${channel}, but this system has no namespace secret (auth.secret)`,
        ),
      );
      return;
    }
    if (this.arrivals.busy) {
      this.arrivals.hold(() => {
        this.receiveInOrder(payload, target);
      });
      return;
    }
    this.receiveInOrder(payload, target);
  }

  /**
   * An entry of the durable mailbox `name` of `target`, with the delivery
   * that settles it: verified for the name's channel, decoded and handed to
   * the actor. No dedupe: a redelivery repeats an id by design, and an entry
   * may wait in the stream for hours. An entry no delivery could handle
   * (unsigned, malformed, a reply, for another name) is buried with the reason.
   */
  receiveDurable(
    payload: Buffer,
    target: HostedActor,
    name: string,
    channel: string,
    delivery: Delivery,
  ): void {
    const { diagnostics, auth } = this.parts;
    diagnostics.received++;
    const refuse = (refusal: Refusal): void => {
      diagnostics.refuse(refusal);
      delivery.bury(`${refusal.reason}: ${refusal.detail}`);
    };
    if (auth !== undefined) {
      const inner = auth.verify(channel, payload);
      if (inner instanceof Refusal) {
        refuse(inner);
        return;
      }
      payload = inner;
    } else if (isSigned(payload)) {
      refuse(
        new Refusal(
          'signed',
          `a signed entry in the durable mailbox ${name}, but no namespace secret`,
        ),
      );
      return;
    }
    const decoded = this.parts.codec.decode(payload, true);
    if (decoded instanceof Refusal) {
      refuse(decoded);
      return;
    }
    diagnostics.receivedByKind[decoded.kind]++;
    if (isReply(decoded) || decoded.claim !== undefined || decoded.to !== name) {
      refuse(
        new Refusal(
          'not-for-mailbox',
          `entry ${delivery.entryId} of the durable mailbox ${name} is a ${decoded.kind} to ${decoded.to}`,
        ),
      );
      return;
    }
    if (this.expired(decoded, `waited in the durable mailbox ${name} until`)) {
      delivery.ack();
      return;
    }
    if (!this.parts.isRunning() || !target.acceptDelivery(decoded, delivery)) delivery.release();
  }

  /** True (and the ask dropped, counted) when the deadline of `envelope` has passed. */
  expired(envelope: RequestEnvelope, where: string): boolean {
    if (envelope.kind !== 'ask' || envelope.deadline >= Date.now()) return false;
    this.parts.diagnostics.drop(
      'expired',
      'expired',
      `ask "${envelope.type}" from ${envelope.from} ${where} after its deadline`,
    );
    return true;
  }

  /** Refuses a message because its actor (or the system) stops: an ask is told so, a tell counted. */
  refuseStopping(envelope: RequestEnvelope, actor: string): void {
    if (envelope.kind === 'ask') {
      this.parts.outbox.replyError(envelope, actor, new ShuttingDownError(actor), 'framework');
    } else {
      this.parts.diagnostics.drop(
        'shutdown',
        'shutdown',
        `tell "${envelope.type}" to ${actor} dropped: stopping`,
      );
    }
  }

  private receiveInOrder(payload: Buffer, target: HostedActor | undefined): void {
    const decoded = this.parts.codec.decodeAll(payload);
    const now = Date.now();
    if (!Array.isArray(decoded)) {
      this.accept(decoded, target, now);
      return;
    }
    for (const each of decoded) {
      // A claimed message in a batch holds back the rest of it, as it holds later arrivals.
      if (this.arrivals.busy) {
        this.arrivals.hold(() => {
          this.accept(each, target, Date.now());
        });
      } else {
        this.accept(each, target, now);
      }
    }
  }

  /** One decoded envelope (or refusal) of a payload. */
  private accept(decoded: Envelope | Refusal, target: HostedActor | undefined, now: number): void {
    const { diagnostics } = this.parts;
    diagnostics.received++;
    if (decoded instanceof Refusal) {
      diagnostics.refuse(decoded);
      return;
    }
    diagnostics.receivedByKind[decoded.kind]++;
    if (
      decoded.kind === 'tell' &&
      decoded.type === PROBE_TYPE &&
      decoded.from === this.parts.address
    ) {
      this.parts.connection.probeArrived(decoded.id);
      return;
    }
    // Replies need no window: the pending ask is settled once, and a repeat counts as late.
    if (!isReply(decoded)) {
      const sighting = this.recentIds.check(decoded.id, decoded.sentAt, now, decoded.to);
      if (sighting !== 'first') {
        this.refuseRepeat(decoded, sighting, now);
        return;
      }
    }
    if (decoded.claim !== undefined) this.receiveClaimed(decoded, target);
    else this.dispatch(decoded, target);
  }

  /** A tell or ask dedupe did not take: a repeat, or sent at a time that makes it suspect. */
  private refuseRepeat(envelope: RequestEnvelope, sighting: Sighting, now: number): void {
    if (sighting === 'duplicate') {
      this.parts.diagnostics.drop(
        'duplicate',
        'duplicate',
        `duplicate message ${envelope.id} from ${envelope.from} dropped`,
      );
      return;
    }
    const { windowMs, maxClockSkewMs } = this.parts.dedupe;
    const detail =
      sighting === 'out-of-order'
        ? `message ${envelope.id} from ${envelope.from} was sent before the last one seen from that sender`
        : `message ${envelope.id} from ${envelope.from} was sent ${Math.abs(now - envelope.sentAt)} ms ` +
          `${sighting === 'future' ? 'in the future' : 'ago'}, outside dedupeWindowMs ` +
          `(${windowMs}) and maxClockSkewMs (${maxClockSkewMs}): ` +
          `a repeat could not be recognised. Check the sender's clock (NTP)`;
    this.parts.diagnostics.refuse(new Refusal(sighting, detail));
  }

  /** A stub for a message stored under a key: fetch it (in order), then dispatch it. */
  private receiveClaimed(stub: Envelope, target: HostedActor | undefined): void {
    const { claimCheck, diagnostics, maxMessageBytes } = this.parts;
    try {
      claimCheck.keyOf(stub);
    } catch (error) {
      diagnostics.refuse(new Refusal('bad-claim', (error as Error).message));
      return;
    }
    const refuseWith = (refusal: Refusal, error: Error): void => {
      diagnostics.refuse(refusal);
      if (stub.kind === 'ask') this.parts.outbox.replyError(stub, stub.to, error, 'framework');
    };
    const size = stub.claim?.size ?? 0;
    if (size > maxMessageBytes) {
      claimCheck.discard(stub);
      refuseWith(
        new Refusal('oversized', `claimed message of ${size} bytes, limit ${maxMessageBytes}`),
        new MessageTooLargeError(size, maxMessageBytes),
      );
      return;
    }
    if (!isReply(stub) && this.expired(stub, 'arrived')) {
      claimCheck.discard(stub);
      return;
    }
    const fetched = claimCheck
      .fetch(stub)
      .then(
        (full) => {
          this.dispatchClaimed(stub, full, target, refuseWith);
        },
        (error: unknown) => {
          diagnostics.refuse(
            new Refusal('claim-fetch', `cannot fetch claimed message: ${String(error)}`),
          );
        },
      )
      .catch((error: unknown) => {
        // Dispatch runs inside this promise chain: nothing it throws may go unhandled.
        diagnostics.refuse(
          new Refusal('listener-threw', `a claimed message failed: ${String(error)}`),
        );
      });
    this.arrivals.waitFor(fetched);
  }

  private dispatchClaimed(
    stub: Envelope,
    full: Buffer | Refusal,
    target: HostedActor | undefined,
    refuseWith: (refusal: Refusal, error: Error) => void,
  ): void {
    if (full instanceof Refusal) {
      refuseWith(full, new InvalidMessageError(full.reason, `message ${stub.id}: ${full.detail}`));
      return;
    }
    // This buffer is ours alone: binary values may be views of it, not copies.
    const decoded = this.parts.codec.decode(full, true);
    if (decoded instanceof Refusal) {
      this.parts.diagnostics.refuse(decoded);
      return;
    }
    const mismatch = this.parts.claimCheck.mismatch(stub, decoded);
    if (mismatch !== undefined) {
      this.parts.diagnostics.refuse(
        new Refusal('bad-claim', `claimed message does not match its stub ${stub.id}: ${mismatch}`),
      );
      return;
    }
    this.dispatch(decoded, target);
  }

  /** Routes a valid, first-seen envelope: replies to pending asks, tells and asks to actors. */
  private dispatch(decoded: Envelope, target: HostedActor | undefined): void {
    if (isReply(decoded)) {
      this.parts.asks.settle(decoded);
      return;
    }
    if (this.expired(decoded, 'arrived')) return;
    // Answered here, not queued: an overloaded actor's health is what one wants to see.
    if (
      decoded.kind === 'ask' &&
      decoded.type === HEALTH_TYPE &&
      target?.handles(HEALTH_TYPE) !== true
    ) {
      this.parts.outbox.reply(decoded, decoded.to, this.parts.healthOf(target));
      return;
    }
    if (
      decoded.kind === 'ask' &&
      decoded.type === REPORT_TYPE &&
      decoded.to === this.parts.address
    ) {
      this.parts.outbox.reply(decoded, decoded.to, this.parts.report());
      return;
    }
    if (!this.parts.isRunning()) {
      this.refuseStopping(decoded, target?.address ?? this.parts.address);
      return;
    }
    if (target === undefined) {
      this.refuseNoActor(decoded);
      return;
    }
    if (target.accept(decoded)) return;
    const { capacity, overflow } = target.mailbox.options;
    this.parts.diagnostics.drop(
      'mailboxFull',
      'mailbox-full',
      `mailbox of ${target.address} is full (${capacity}); overflow policy "${overflow}"`,
    );
    if (decoded.kind === 'ask' && overflow === 'reject') {
      this.parts.outbox.replyError(
        decoded,
        target.address,
        new MailboxFullError(target.address, capacity),
        'framework',
      );
    }
  }

  /** A tell or ask reached the process mailbox, which hosts no actor. */
  private refuseNoActor(envelope: RequestEnvelope): void {
    const { address } = this.parts;
    const message = `${address} hosts no actor; "${envelope.type}" from ${envelope.from} cannot be handled`;
    if (envelope.kind === 'ask') {
      const ask: AskEnvelope = envelope;
      this.parts.outbox.replyError(
        ask,
        address,
        new InvalidMessageError('no-actor', message),
        'framework',
      );
    } else {
      this.parts.diagnostics.drop('unknownType', 'no-actor', message);
    }
  }
}
