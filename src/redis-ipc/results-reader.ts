/**
 * The client side of command queues: one reader per results queue
 * (`queues.results.<component>.<thread>`) takes results with BLPOP and hands
 * each to the command waiting for its `command_id`, so several commands may be
 * in flight at once. A result nobody waits for (its command timed out, or it
 * belongs to another process using the same component and thread) is
 * discarded and counted, as redis-ipc clients do.
 */
import { CommandTimeoutError } from '../errors.js';
import type { DedicatedConnection } from '../internal.js';
import { idText } from './command-server.js';
import { type IpcMessage, excerpt, parseIpcMessage } from './ipc-message.js';

/** Seconds each BLPOP blocks: below the connection's liveness timeout, so a frozen server is still noticed. */
const BLOCK_SECONDS = '1';
/** Pause before trying again after a failed read, so a dead server is not hammered. */
const RETRY_MS = 250;

interface Waiter {
  resolve(result: IpcMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class ResultsReader {
  private readonly waiters = new Map<string, Waiter>();
  private connection: Promise<DedicatedConnection> | undefined;
  private reading = false;
  private closed = false;
  /** Results taken that no command waited for. */
  discarded = 0;

  constructor(
    readonly queue: string,
    private readonly open: () => Promise<DedicatedConnection>,
    private readonly onDiscard: (reason: string, detail: string) => void,
  ) {}

  get pending(): number {
    return this.waiters.size;
  }

  /**
   * Waits for the result of command `commandId`, pushed to `commandQueue`.
   * Register before pushing the command, so a quick result is not missed.
   */
  wait(commandId: string, commandQueue: string, timeoutMs: number): Promise<IpcMessage> {
    const result = new Promise<IpcMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiters.delete(commandId)) {
          reject(new CommandTimeoutError(commandQueue, commandId, timeoutMs));
        }
      }, timeoutMs);
      this.waiters.set(commandId, { resolve, reject, timer });
    });
    this.startReading();
    return result;
  }

  /** Gives up on a command (e.g. it could not be pushed). */
  cancel(commandId: string, error: Error): void {
    const waiter = this.waiters.get(commandId);
    if (waiter === undefined) return;
    this.waiters.delete(commandId);
    clearTimeout(waiter.timer);
    waiter.reject(error);
  }

  /** Rejects every waiting command and stops reading. */
  async close(error: () => Error): Promise<void> {
    this.closed = true;
    for (const id of [...this.waiters.keys()]) this.cancel(id, error());
    const connection = await this.connection?.catch(() => undefined);
    await connection?.unblock().catch(() => undefined);
    await connection?.close();
  }

  private startReading(): void {
    if (this.reading || this.closed) return;
    this.reading = true;
    void this.read().finally(() => {
      this.reading = false;
      // A command registered while the last BLPOP was returning.
      if (this.waiters.size > 0 && !this.closed) this.startReading();
    });
  }

  private async read(): Promise<void> {
    while (this.waiters.size > 0 && !this.closed) {
      let connection: DedicatedConnection;
      try {
        this.connection ??= this.open();
        connection = await this.connection;
      } catch (error) {
        this.connection = undefined;
        await this.pauseAfter(`cannot connect to read ${this.queue}: ${String(error)}`);
        continue;
      }
      let reply;
      try {
        reply = await connection.call(['BLPOP', this.queue, BLOCK_SECONDS]);
      } catch (error) {
        // The connection reconnects by itself; waiters keep their own timeouts.
        await this.pauseAfter(`cannot read ${this.queue}: ${String(error)}`);
        continue;
      }
      if (Array.isArray(reply) && reply[1] !== undefined) this.deliver(reply[1] as Buffer);
    }
  }

  private async pauseAfter(problem: string): Promise<void> {
    if (this.closed) return;
    this.onDiscard('results-read-failed', problem);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }

  private deliver(raw: Buffer): void {
    const parsed = parseIpcMessage(raw);
    if ('problem' in parsed) {
      this.discarded++;
      this.onDiscard(
        'invalid-result',
        `discarded a result on ${this.queue}: ${parsed.problem}: ${excerpt(raw)}`,
      );
      return;
    }
    const id = parsed.message.command_id;
    const key = idText(id);
    const waiter = key === undefined ? undefined : this.waiters.get(key);
    if (waiter === undefined) {
      this.discarded++;
      this.onDiscard(
        'stale-result',
        `discarded a result on ${this.queue} for command ${JSON.stringify(id)}, which nobody waits for (timed out, or another client uses the same component and thread)`,
      );
      return;
    }
    this.waiters.delete(key as string);
    clearTimeout(waiter.timer);
    waiter.resolve(parsed.message);
  }
}
