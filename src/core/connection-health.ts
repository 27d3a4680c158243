/**
 * The health of the connection to Redis as the actor system reports it:
 * outages (`connection-lost`), recoveries proven by a probe through the
 * mailbox (`connection-restored`), and mailboxes that cannot be resubscribed
 * (`mailbox-lost`). The transport says when a connection drops or comes back;
 * only a probe that returns through Redis says the mailbox hears again.
 */
import type { EventEmitter } from 'node:events';
import { ConnectionError, MailboxLostError } from '../errors.js';
import type { PublishCallback, Transport } from '../transport/index.js';
import type { Logger } from '../util/index.js';
import type { ActorSystemEvents } from './events.js';
import { MailboxProbe } from './mailbox-probe.js';

/** Consecutive failed probes after which the mailbox is reported lost. */
const PROBE_FAILURES_BEFORE_LOSS = 3;

export interface ConnectionHealthParts {
  transport: Transport;
  /** The system's address, for log lines and MailboxLostError. */
  address: string;
  logger: Logger;
  /** Where the events go: the actor system. */
  events: EventEmitter<ActorSystemEvents>;
  probeTimeoutMs: number;
  /** Whether the system still runs (a stopping one neither probes nor reports). */
  isRunning(): boolean;
  newId(): string;
  /** Tells the system's own mailbox a probe with this id. */
  sendProbe(id: string, callback: PublishCallback): void;
}

export class ConnectionHealth {
  private readonly probe: MailboxProbe;
  /** False from a lost connection until a probe came back through the mailbox. */
  private mailboxVerified = true;
  private outage = false;
  private mailboxLossReported = false;
  private losses = 0;
  /** Called after each `connection-restored` (shared-value watchers re-read). */
  private readonly restoredListeners = new Set<() => void>();

  constructor(private readonly parts: ConnectionHealthParts) {
    const { transport, logger, address } = parts;
    this.probe = new MailboxProbe({
      timeoutMs: parts.probeTimeoutMs,
      newId: () => parts.newId(),
      publish: (id, callback) => {
        parts.sendProbe(id, callback);
      },
      onLive: (roundTripMs) => {
        this.mailboxVerified = true;
        this.mailboxLossReported = false;
        if (!this.outage) return;
        this.outage = false;
        logger.info(
          `${address}: connection to Redis restored, mailbox proven live (probe ${roundTripMs} ms)`,
        );
        parts.events.emit('connection-restored');
        for (const listener of [...this.restoredListeners]) listener();
      },
      onDeaf: (failures, detail) => {
        this.mailboxVerified = false;
        // Without a publishing connection the probe proves nothing; it reruns on 'up'.
        if (!transport.state.connected || !parts.isRunning()) return;
        if (failures >= PROBE_FAILURES_BEFORE_LOSS) this.reportMailboxLost(detail);
        transport.reconnectSubscriber();
      },
    });
    transport.on('down', (error) => {
      this.mailboxVerified = false;
      if (this.outage) return;
      this.outage = true;
      this.losses++;
      logger.warn(`${address}: ${error.message}`);
      parts.events.emit(
        'connection-lost',
        error instanceof ConnectionError
          ? error
          : new ConnectionError(transport.displayUrl, error.message),
      );
    });
    transport.on('up', () => {
      if (parts.isRunning()) this.probe.run();
    });
    transport.on('resubscribe-failed', (error) => {
      this.mailboxVerified = false;
      this.reportMailboxLost(error.message, error);
    });
  }

  /** The connection is down (or a reconnect is not yet proven by a probe). */
  get inOutage(): boolean {
    return this.outage;
  }

  get connectionLosses(): number {
    return this.losses;
  }

  /** Every mailbox is subscribed and, after a reconnect, proven live. */
  get subscribed(): boolean {
    return this.parts.transport.state.subscribed && this.mailboxVerified;
  }

  /** Calls `listener` after each restored connection; returns its removal. */
  onRestored(listener: () => void): () => void {
    this.restoredListeners.add(listener);
    return () => {
      this.restoredListeners.delete(listener);
    };
  }

  /** A probe came back through Redis. */
  probeArrived(id: string): void {
    this.probe.arrived(id);
  }

  stop(): void {
    this.probe.cancel();
  }

  private reportMailboxLost(detail: string, cause?: Error): void {
    if (this.mailboxLossReported) return;
    this.mailboxLossReported = true;
    const error = new MailboxLostError(this.parts.address, detail, { cause });
    this.parts.logger.error(`${this.parts.address}: ${error.message}`);
    this.parts.events.emit('mailbox-lost', error);
  }
}
