/**
 * Half-open connection detection. TCP does not notice a peer that stopped
 * answering (a stopped or frozen server, a lost route) for minutes, and a unix
 * socket never does. A connection that waits for a reply and reads nothing for
 * `timeoutMs` is declared dead; an idle one is sent a PING every `intervalMs`,
 * so that it is checked too. Detection therefore takes at most about
 * `intervalMs + timeoutMs` after the server went silent.
 */

export interface LivenessCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Bytes read from the socket so far (any reply or pushed message is progress). */
  bytesRead(): number;
  /** Bytes queued in the process and not yet taken by the kernel. */
  bytesUnsent(): number;
  /** Whether a reply is awaited right now. */
  isAwaitingReply(): boolean;
  /** Sends a PING, which makes a reply awaited. */
  ping(): void;
  /** The connection is presumed dead; `silentMs` is how long it said nothing. */
  onDead(silentMs: number): void;
}

export class LivenessCheck {
  private timer: NodeJS.Timeout | undefined;
  private lastProgressAt = 0;
  private lastCheckAt = 0;
  private lastRead = 0;
  private lastUnsent = 0;
  private wasAwaiting = false;

  constructor(private readonly options: LivenessCheckOptions) {}

  /** Starts checking a connection that just became ready. */
  start(): void {
    this.stop();
    const now = Date.now();
    this.lastProgressAt = now;
    this.lastCheckAt = now;
    this.lastRead = this.options.bytesRead();
    this.lastUnsent = this.options.bytesUnsent();
    this.wasAwaiting = false;
    this.timer = setInterval(() => {
      this.check();
    }, this.options.intervalMs);
    // Checking alone must not keep a process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const now = Date.now();
    const { intervalMs, timeoutMs } = this.options;
    // A check that ran late means this process was busy, not that the server was
    // silent: the replies that came meanwhile have not been read yet.
    const ranLate = now - this.lastCheckAt > intervalMs + Math.min(intervalMs, 250);
    this.lastCheckAt = now;
    const read = this.options.bytesRead();
    const unsent = this.options.bytesUnsent();
    // Progress: the server sent something, or took some of what we still had to send.
    const progressed = read !== this.lastRead || unsent < this.lastUnsent;
    this.lastRead = read;
    this.lastUnsent = unsent;
    const awaiting = this.options.isAwaitingReply();
    // Silence only counts from the moment something was expected.
    if (progressed || ranLate || !this.wasAwaiting) this.lastProgressAt = now;
    this.wasAwaiting = awaiting;
    if (!awaiting) {
      this.options.ping();
      this.wasAwaiting = true;
      return;
    }
    const silentMs = now - this.lastProgressAt;
    if (silentMs >= timeoutMs) {
      this.stop();
      this.options.onDead(silentMs);
    }
  }
}
