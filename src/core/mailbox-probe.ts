/**
 * Proves a process mailbox live end to end. After a reconnect, "subscribed"
 * only means Redis confirmed a SUBSCRIBE on some connection; the probe is a
 * message this process publishes to its own mailbox and must receive back
 * through Redis within `timeoutMs`. A probe that does not come back (or reached
 * no subscriber) makes the owner resubscribe and probe again.
 */

export type PublishCallback = (error: Error | null, receivers: number) => void;

export interface MailboxProbeOptions {
  timeoutMs: number;
  /** A fresh message id. */
  newId(): string;
  /** Publishes a probe (a tell of PROBE_TYPE to the mailbox itself) with message id `id`. */
  publish(id: string, callback: PublishCallback): void;
  /** The probe came back. */
  onLive(roundTripMs: number): void;
  /** The probe failed; `failures` counts consecutive failures. */
  onDeaf(failures: number, detail: string): void;
}

interface Outstanding {
  id: string;
  sentAt: number;
  timer: NodeJS.Timeout;
}

export class MailboxProbe {
  private outstanding: Outstanding | undefined;
  private failures = 0;

  constructor(private readonly options: MailboxProbeOptions) {}

  /** Sends a probe, replacing any still outstanding. */
  run(): void {
    this.cancel();
    const id = this.options.newId();
    const fail = (detail: string): void => {
      // Only the probe still outstanding counts; a stale one's news is old.
      if (this.outstanding === undefined || this.outstanding.id !== id) return;
      this.cancel();
      this.options.onDeaf(++this.failures, detail);
    };
    const timer = setTimeout(() => {
      fail(`probe did not come back through Redis within ${this.options.timeoutMs} ms`);
    }, this.options.timeoutMs);
    this.outstanding = { id, sentAt: Date.now(), timer };
    this.options.publish(id, (error, receivers) => {
      if (error !== null) fail(`probe not published: ${error.message}`);
      else if (receivers === 0) fail('probe reached no subscriber: the mailbox is not subscribed');
    });
  }

  /** A probe arrived; stale ones (from before the last run) are ignored. */
  arrived(id: string): void {
    const outstanding = this.outstanding;
    if (outstanding?.id !== id) return;
    this.cancel();
    this.failures = 0;
    this.options.onLive(Date.now() - outstanding.sentAt);
  }

  cancel(): void {
    if (this.outstanding === undefined) return;
    clearTimeout(this.outstanding.timer);
    this.outstanding = undefined;
  }
}
