/**
 * The publishing (and general command) connection: a lean RESP2 client.
 *
 * Why not ioredis here: every ioredis command allocates a Command, a Promise and
 * queue entries, which caps request/reply near 100k/s on a 2-core machine. This
 * connection batches all commands issued in one event-loop turn into one socket
 * write and answers each with a plain callback, so a PUBLISH costs little more
 * than its bytes. It never resends a command after a reconnect: a command in
 * flight when the connection drops fails with ConnectionError (it may or may not
 * have run), so nothing is delivered twice by the transport.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ConnectionError, PermissionError, ShuttingDownError } from '../errors.js';
import { Fifo } from '../util/index.js';
import type { CommandConnectionOptions } from './command-connection-options.js';
import { LivenessCheck } from './liveness-check.js';
import { asPermissionError } from './permission.js';
import { connectSocket } from './tls.js';
import type { CommandArgument, EncodedCommand, RespValue } from './resp.js';
import {
  RedisReplyError,
  RespParser,
  encodeCommand,
  encodedCommandSize as sizeOf,
} from './resp.js';
import { handshakeFailure, handshakeSteps } from './handshake.js';

export type ReplyCallback = (error: Error | null, reply: RespValue) => void;

/** Callback of a PUBLISH: how many subscribers received it. */
export type ReceiversCallback = (error: Error | null, receivers: number) => void;

export type { CommandConnectionOptions } from './command-connection-options.js';

export type ConnectionState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';

/** Consecutive mergeable publishes to one channel, written as one PUBLISH. */
interface PublishRun {
  channel: string;
  payloads: string[];
  callbacks: ReceiversCallback[];
  bytes: number;
}

/** A payload larger than this is published alone; a run stops growing at RUN_BYTES. */
const MERGE_PAYLOAD_BYTES = 16 * 1024;
const RUN_BYTES = 64 * 1024;
/**
 * Once this much waits in the outbox, it is written at once instead of at the
 * end of the turn: the receiver starts on the first part while this process
 * still produces the rest, instead of both sides taking turns idling.
 */
const EARLY_FLUSH_BYTES = 16 * 1024;

interface OfflineCommand {
  encoded: EncodedCommand;
  callback: ReplyCallback;
}

/**
 * Events: `ready` (connected and handshaken, also after a reconnect),
 * `down` (error: the connection was lost and a reconnect is scheduled),
 * `writable` (everything written so far has left for the kernel: see
 * {@link CommandConnection.backlogBytes}).
 */
export class CommandConnection extends EventEmitter {
  private socket: net.Socket | undefined;
  private readonly parser: RespParser;
  private readonly awaitingReply = new Fifo<ReplyCallback>();
  private outbox: (EncodedCommand | PublishRun)[] = [];
  /** The outbox's last entry when it is a run that may still grow. */
  private openRun: PublishRun | undefined;
  private outboxHasBuffers = false;
  /** Approximate bytes waiting in the outbox. */
  private outboxBytes = 0;
  private flushScheduled = false;
  private offline: OfflineCommand[] = [];
  private offlineBytes = 0;
  private stateValue: ConnectionState = 'idle';
  private reconnectAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private writeCount = 0;
  private readonly liveness: LivenessCheck;
  private clientIdValue: number | undefined;
  private readonly publishCommand: 'PUBLISH' | 'SPUBLISH';

  constructor(private readonly options: CommandConnectionOptions) {
    super();
    this.publishCommand = options.publishCommand ?? 'PUBLISH';
    this.parser = new RespParser((reply) => {
      this.onReply(reply);
    });
    this.liveness = new LivenessCheck({
      intervalMs: options.healthCheckIntervalMs,
      timeoutMs: options.healthCheckTimeoutMs,
      bytesRead: () => this.socket?.bytesRead ?? 0,
      bytesUnsent: () => this.socket?.writableLength ?? 0,
      isAwaitingReply: () => this.awaitingReply.length > 0,
      ping: () => {
        this.send(['PING'], ignoreReply);
      },
      onDead: (silentMs) => {
        this.socket?.destroy(
          new Error(`Redis answered nothing for ${silentMs} ms; connection presumed dead`),
        );
      },
    });
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Socket writes so far; with per-tick batching, far fewer than commands. */
  get writes(): number {
    return this.writeCount;
  }

  /** The server's id of the current connection (CLIENT ID), when known. */
  get clientId(): number | undefined {
    return this.clientIdValue;
  }

  /**
   * Bytes given to this connection and not yet handed to the kernel: this
   * turn's commands, the socket's own buffer, and commands waiting for a
   * connection. `writable` is emitted when the socket's buffer drains.
   */
  get backlogBytes(): number {
    return this.outboxBytes + (this.socket?.writableLength ?? 0) + this.offlineBytes;
  }

  /** Commands written and not yet answered, plus those waiting for a connection. */
  get inFlight(): number {
    return this.awaitingReply.length + this.offline.length;
  }

  /** Connects once; rejects with {@link ConnectionError} if that first attempt fails. */
  connect(): Promise<void> {
    if (this.stateValue !== 'idle') throw new Error('connect() may be called once');
    return new Promise((resolve, reject) => {
      this.stateValue = 'connecting';
      const onReady = (): void => {
        this.off('first-failure', onFailure);
        resolve();
      };
      const onFailure = (error: Error): void => {
        this.off('ready', onReady);
        this.stateValue = 'closed';
        reject(error);
      };
      this.once('ready', onReady);
      this.once('first-failure', onFailure);
      this.openSocket();
    });
  }

  /** Queues a command; all commands of one event-loop turn go out in one write. */
  send(args: readonly CommandArgument[], callback: ReplyCallback): void {
    const encoded = encodeCommand(args);
    switch (this.stateValue) {
      case 'ready':
        this.enqueueWrite(encoded, callback);
        return;
      case 'closed':
        callback(new ShuttingDownError('the Redis connection'), null);
        return;
      default:
        if (this.offline.length >= this.options.maxOfflineCommands) {
          callback(
            new ConnectionError(
              this.options.displayUrl,
              `not connected, and ${this.options.maxOfflineCommands} commands already wait for the connection`,
            ),
            null,
          );
          return;
        }
        this.offline.push({ encoded, callback });
        this.offlineBytes += sizeOf(encoded);
    }
  }

  /**
   * PUBLISH that may be merged with the mergeable publishes to the same
   * channel right before it in this event-loop turn: one command, one message
   * on the channel, whose payload is `combinePublishes` of theirs. Merging only
   * consecutive publishes keeps the overall order of commands. Each callback
   * gets the reply to the merged PUBLISH.
   */
  publishMergeable(channel: string, payload: string, callback: ReceiversCallback): void {
    const combine = this.options.combinePublishes;
    if (this.stateValue !== 'ready' || combine === undefined) {
      const sign = this.options.signPayload;
      const signed = sign === undefined ? payload : sign(channel, payload);
      this.send([this.publishCommand, channel, signed], (error, reply) => {
        callback(
          error === null ? null : this.refused(error, this.publishCommand),
          typeof reply === 'number' ? reply : 0,
        );
      });
      return;
    }
    const run = this.openRun;
    if (
      run !== undefined &&
      run.channel === channel &&
      payload.length <= MERGE_PAYLOAD_BYTES &&
      run.bytes + payload.length <= RUN_BYTES
    ) {
      run.payloads.push(payload);
      run.callbacks.push(callback);
      run.bytes += payload.length;
      this.noteOutboxBytes(payload.length);
      return;
    }
    const started: PublishRun = {
      channel,
      payloads: [payload],
      callbacks: [callback],
      bytes: payload.length,
    };
    this.queue(started, (error, reply) => {
      const receivers = typeof reply === 'number' ? reply : 0;
      const failure = error === null ? null : this.refused(error, this.publishCommand);
      for (const each of started.callbacks) each(failure, receivers);
    });
    this.openRun = payload.length <= MERGE_PAYLOAD_BYTES ? started : undefined;
    this.noteOutboxBytes(payload.length);
  }

  private noteOutboxBytes(bytes: number): void {
    this.outboxBytes += bytes;
    if (this.outboxBytes >= EARLY_FLUSH_BYTES) this.flush();
  }

  /** Promise form of {@link send}, for commands off the hot path; NOPERM as PermissionError. */
  call(args: readonly CommandArgument[]): Promise<RespValue> {
    return new Promise((resolve, reject) => {
      this.send(args, (error, reply) => {
        if (error === null) resolve(reply);
        else reject(this.refused(error, String(args[0])));
      });
    });
  }

  /** NOPERM as PermissionError (naming the command and user); NOAUTH as ConnectionError. */
  refused(error: Error, command: string): Error {
    if (error.message.startsWith('NOAUTH'))
      return new ConnectionError(this.options.displayUrl, error.message, { cause: error });
    return asPermissionError(error, command, this.options.endpoint.username ?? 'default');
  }

  /**
   * Stops reconnecting, waits up to `graceMs` for replies to commands already
   * written, then closes the socket. Unanswered commands fail with ShuttingDownError.
   */
  close(graceMs = 2000): Promise<void> {
    this.closing ??= this.closeNow(graceMs);
    return this.closing;
  }

  private async closeNow(graceMs: number): Promise<void> {
    clearTimeout(this.reconnectTimer);
    this.liveness.stop();
    const wasReady = this.stateValue === 'ready';
    this.stateValue = 'closed';
    this.offlineBytes = 0;
    for (const command of this.offline.splice(0)) {
      command.callback(new ShuttingDownError('the Redis connection'), null);
    }
    const socket = this.socket;
    if (socket === undefined) return;
    if (wasReady) {
      this.flush();
      if (this.awaitingReply.length > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          this.once('drained', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    await new Promise<void>((resolve) => {
      if (socket.destroyed) {
        resolve();
        return;
      }
      socket.once('close', () => {
        resolve();
      });
      socket.end();
      // A server that stopped reading would keep a half-closed socket open forever.
      setTimeout(() => socket.destroy(), 500).unref();
    });
  }

  private enqueueWrite(encoded: EncodedCommand, callback: ReplyCallback): void {
    if (typeof encoded !== 'string') this.outboxHasBuffers = true;
    this.queue(encoded, callback);
    // Anything else in between ends a run: merging across it would reorder commands.
    this.openRun = undefined;
    this.noteOutboxBytes(sizeOf(encoded));
  }

  private queue(entry: EncodedCommand | PublishRun, callback: ReplyCallback): void {
    this.outbox.push(entry);
    this.awaitingReply.push(callback);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A microtask, not setImmediate: it runs once the work already queued in this
      // turn (every promise continuation a batch of replies resolved) has queued its
      // commands, and before the next I/O callback, so a lone ask waits for nothing.
      queueMicrotask(() => {
        this.flush();
      });
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    const entries = this.outbox;
    if (entries.length === 0 || socket === undefined) return;
    this.outbox = [];
    this.openRun = undefined;
    this.outboxBytes = 0;
    const outbox = entries.map((entry) => (isRun(entry) ? this.encodeRun(entry) : entry));
    this.writeCount++;
    if (!this.outboxHasBuffers) {
      socket.write(outbox.length === 1 ? (outbox[0] as string) : outbox.join(''));
      return;
    }
    this.outboxHasBuffers = false;
    socket.cork();
    for (const encoded of outbox) {
      if (typeof encoded === 'string') socket.write(encoded);
      else for (const chunk of encoded) socket.write(chunk);
    }
    socket.uncork();
  }

  private encodeRun(run: PublishRun): string {
    const payload =
      run.payloads.length === 1
        ? (run.payloads[0] as string)
        : (this.options.combinePublishes as (payloads: string[]) => string)(run.payloads);
    const sign = this.options.signPayload;
    const signed = sign === undefined ? payload : sign(run.channel, payload);
    return encodeCommand([this.publishCommand, run.channel, signed]) as string;
  }

  private onReply(reply: RespValue): void {
    const callback = this.awaitingReply.shift();
    if (callback === undefined) return;
    if (reply instanceof RedisReplyError) callback(reply, null);
    else callback(null, reply);
    if (this.awaitingReply.length === 0) this.emit('drained');
  }

  private openSocket(): void {
    const { endpoint, connectTimeoutMs } = this.options;
    const socket = connectSocket(endpoint, this.options.tls);
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(connectTimeoutMs, () => {
      socket.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`));
    });
    let failure: Error | undefined;
    socket.once(endpoint.kind === 'tcp' && endpoint.tls ? 'secureConnect' : 'connect', () => {
      // The connect timeout keeps running through the handshake: a server that
      // accepts connections but answers nothing (stopped) must not hang us.
      if (endpoint.kind === 'tcp') socket.setKeepAlive(true, 10_000);
      this.handshake();
    });
    socket.on('drain', () => {
      this.emit('writable');
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on('error', (error: Error) => {
      failure = error;
    });
    socket.once('close', () => {
      this.onSocketClosed(socket, failure);
    });
  }

  /** Authenticates, selects the database and names the client, then goes ready. */
  private handshake(): void {
    const steps = handshakeSteps(this.options.endpoint, this.options.clientName);
    let remaining = steps.length;
    let failed = false;
    for (const step of steps) {
      this.enqueueWrite(encodeCommand(step), (error, reply) => {
        if (failed) return;
        if (step[1] === 'ID') this.clientIdValue = typeof reply === 'number' ? reply : undefined;
        // Old servers (or an ACL) may refuse CLIENT SETNAME or CLIENT ID: cosmetic, not a failure.
        if (error !== null && !(step[0] === 'CLIENT' && COSMETIC_REFUSAL.test(error.message))) {
          failed = true;
          const user = this.options.endpoint.username ?? 'default';
          this.socket?.destroy(handshakeFailure(String(step[0]), error, user));
          return;
        }
        if (--remaining === 0) this.becomeReady();
      });
    }
  }

  private becomeReady(): void {
    this.socket?.setTimeout(0);
    this.stateValue = 'ready';
    this.reconnectAttempts = 0;
    this.liveness.start();
    const waiting = this.offline;
    this.offline = [];
    this.offlineBytes = 0;
    for (const command of waiting) this.enqueueWrite(command.encoded, command.callback);
    this.emit('ready');
    // Sends held back while offline may go now; more follow on the next drain.
    this.emit('writable');
  }

  private onSocketClosed(socket: net.Socket, failure: Error | undefined): void {
    if (this.socket !== socket) return;
    this.liveness.stop();
    this.socket = undefined;
    this.parser.reset();
    this.outbox = [];
    this.openRun = undefined;
    this.outboxHasBuffers = false;
    const detail =
      failure === undefined ? 'connection closed' : `connection lost (${failure.message})`;
    const lost = new ConnectionError(
      this.options.displayUrl,
      `${detail}; the command may or may not have run`,
      { cause: failure },
    );
    for (const callback of this.awaitingReply.drain()) callback(lost, null);
    this.emit('drained');
    if (this.stateValue === 'closed') return;
    if (this.stateValue === 'connecting') {
      // An ACL that refuses the handshake (SELECT of a database) is said as such.
      const refused = failure instanceof PermissionError ? failure : undefined;
      const cause = { cause: failure };
      this.emit(
        'first-failure',
        refused ?? new ConnectionError(this.options.displayUrl, detail, cause),
      );
      return;
    }
    const wasReady = this.stateValue === 'ready';
    this.stateValue = 'reconnecting';
    if (wasReady) this.emit('down', lost);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = Math.min(50 * 2 ** this.reconnectAttempts, this.options.maxReconnectDelayMs);
    this.reconnectAttempts++;
    this.reconnectTimer = setTimeout(() => {
      if (this.stateValue === 'reconnecting') this.openSocket();
    }, delay);
  }
}

function ignoreReply(): void {}

/** How a server that is fine says no to CLIENT SETNAME or CLIENT ID (not DENIED, LOADING, …). */
const COSMETIC_REFUSAL = /^(ERR unknown (sub)?command|ERR Unknown subcommand|NOPERM)/i;

function isRun(entry: EncodedCommand | PublishRun): entry is PublishRun {
  return typeof entry === 'object' && !Array.isArray(entry);
}
