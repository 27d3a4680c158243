/**
 * A connection in Redis MONITOR mode: the server copies every command it
 * runs to it, as one line each (see monitor-line.ts). Unlike a pattern
 * subscription it receives no message, so it changes nothing that other
 * clients see (a PUBLISH's receiver count above all). Not ioredis's
 * `monitor()`, which holds each whole line however long: here lines longer
 * than `maxLineBytes` are skipped with bounded memory.
 *
 * The server refusing MONITOR (an ACL without it, a managed Redis that
 * renamed or disabled it) is said as {@link MonitorRefusedError}, so that
 * the caller may watch another way. After a lost connection it reconnects
 * like the other connections (backoff up to `maxReconnectDelayMs`); what ran
 * meanwhile is not seen.
 */
import net from 'node:net';
import {
  ConnectionError,
  MonitorRefusedError,
  PermissionError,
  ShuttingDownError,
} from '../errors.js';
import { Fifo } from '../util/index.js';
import type { ConnectionTuning } from './connection-tuning.js';
import { handshakeFailure } from './handshake.js';
import { LivenessCheck } from './liveness-check.js';
import { BoundedLines, MonitoredCommand } from './monitor-line.js';
import type { RedisEndpoint, TlsOptions } from './redis-url.js';
import { RedisReplyError, encodeCommand } from './resp.js';
import { connectSocket } from './tls.js';

export { MonitorRefusedError } from '../errors.js';

/** What a monitor is told, and how long a line it decodes (one server or a cluster alike). */
export interface MonitorCallbacks {
  /** Shown by `CLIENT LIST`. */
  clientName: string;
  /** Longest line decoded; longer ones are skipped and reported to `onOversized`. */
  maxLineBytes: number;
  /** A command the server ran (a view of memory the next line may reuse: decode what you need before returning). */
  onCommand(command: MonitoredCommand): void;
  /** A line over `maxLineBytes` was skipped: what its head says (if anything), and its length. */
  onOversized(head: MonitoredCommand | undefined, lineBytes: number): void;
  /** The connection was lost, or a reconnect failed (reconnecting goes on). */
  onDown(error: Error): void;
  /** Monitoring again after `onDown`. */
  onUp(): void;
}

export interface MonitorConnectionOptions extends ConnectionTuning, MonitorCallbacks {
  endpoint: RedisEndpoint;
  tls: TlsOptions;
  /** The URL with the password hidden, for messages. */
  displayUrl: string;
}

/**
 * Errors that say "not now" rather than "not here": a server loading its data,
 * busy with a script, full, or a cluster in trouble. Any other error reply to
 * MONITOR is a refusal (NOPERM; managed services word theirs in many ways).
 */
const TRANSIENT = /^(NOAUTH|LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b|max number of clients/;

/** The pause before asking again after a reconnect was refused. */
const REFUSED_RETRY_MS = 30_000;

type State = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';
/** What each reply still expected answers. */
type Expected = 'auth' | 'setname' | 'monitor' | 'ping';

export class MonitorConnection {
  private socket: net.Socket | undefined;
  private stateValue: State = 'idle';
  private readonly expected = new Fifo<Expected>();
  private readonly lines: BoundedLines;
  private readonly liveness: LivenessCheck;
  private reconnectAttempts = 0;
  /** The last reconnect was refused (MONITOR or AUTH): the next waits longer. */
  private refusedLast = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Settles the handshake under way: resolve once MONITOR said OK, reject with why not. */
  private handshakeDone: ((error: Error | null) => void) | undefined;

  constructor(private readonly options: MonitorConnectionOptions) {
    this.lines = new BoundedLines(options.maxLineBytes, {
      line: (line) => {
        this.onLine(line);
      },
      oversized: (head, bytes) => {
        options.onOversized(MonitoredCommand.parse(head), bytes);
      },
    });
    this.liveness = new LivenessCheck({
      intervalMs: options.healthCheckIntervalMs,
      timeoutMs: options.healthCheckTimeoutMs,
      bytesRead: () => this.socket?.bytesRead ?? 0,
      bytesUnsent: () => this.socket?.writableLength ?? 0,
      isAwaitingReply: () => this.expected.length > 0,
      // A MONITOR client may still PING; the +PONG comes between the command lines.
      ping: () => {
        this.write('ping', ['PING']);
      },
      onDead: (silentMs) => {
        this.socket?.destroy(
          new Error(`Redis answered nothing for ${silentMs} ms; connection presumed dead`),
        );
      },
    });
  }

  /** Monitoring now (not between a lost connection and its replacement). */
  get isReady(): boolean {
    return this.stateValue === 'ready';
  }

  private get user(): string {
    return this.options.endpoint.username ?? 'default';
  }

  /**
   * Connects and enters MONITOR mode, once. Rejects with
   * {@link MonitorRefusedError} when the server refuses MONITOR, else with
   * ConnectionError (or PermissionError for a refused AUTH).
   */
  connect(): Promise<void> {
    if (this.stateValue !== 'idle') throw new Error('connect() may be called once');
    this.stateValue = 'connecting';
    return new Promise((resolve, reject) => {
      this.openSocket((error) => {
        if (error === null) {
          resolve();
          return;
        }
        this.stateValue = 'closed';
        this.socket?.destroy();
        reject(error);
      });
    });
  }

  /** Stops reconnecting and closes the socket. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed' && this.socket === undefined) return;
    this.stateValue = 'closed';
    clearTimeout(this.reconnectTimer);
    this.liveness.stop();
    this.handshakeDone?.(new ShuttingDownError('the monitor'));
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => {
        resolve();
      });
      // Nothing to flush: a monitor only reads.
      socket.destroy();
    });
  }

  private openSocket(onHandshake: (error: Error | null) => void): void {
    const { endpoint, connectTimeoutMs } = this.options;
    const socket = connectSocket(endpoint, this.options.tls);
    this.socket = socket;
    this.lines.reset();
    this.expected.drain();
    // A monitor alone must not keep a process alive; its owner closes it.
    socket.unref();
    socket.setNoDelay(true);
    socket.setTimeout(connectTimeoutMs, () => {
      socket.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`));
    });
    let failure: Error | undefined;
    let settled = false;
    this.handshakeDone = (error) => {
      if (settled) return;
      settled = true;
      this.handshakeDone = undefined;
      onHandshake(error);
    };
    socket.once(endpoint.kind === 'tcp' && endpoint.tls ? 'secureConnect' : 'connect', () => {
      if (endpoint.kind === 'tcp') socket.setKeepAlive(true, 10_000);
      this.handshake();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.lines.feed(chunk);
    });
    socket.on('error', (error: Error) => {
      failure = error;
    });
    socket.once('close', () => {
      this.onSocketClosed(socket, failure);
    });
  }

  private write(expected: Expected, args: string[]): void {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return;
    this.expected.push(expected);
    socket.write(encodeCommand(args) as string);
  }

  /** AUTH when the URL has a password, a client name, MONITOR: in one write. */
  private handshake(): void {
    const { password, username } = this.options.endpoint;
    if (password !== undefined) {
      this.write(
        'auth',
        username === undefined ? ['AUTH', password] : ['AUTH', username, password],
      );
    }
    this.write('setname', ['CLIENT', 'SETNAME', this.options.clientName]);
    this.write('monitor', ['MONITOR']);
  }

  private onLine(line: Buffer): void {
    // A command line starts with `+<digits>`; every reply (+OK, +PONG, -ERR …) with a letter.
    const second = line[1] ?? 0;
    if (line[0] === 0x2b && second >= 0x30 && second <= 0x39) {
      const command = MonitoredCommand.parse(line);
      if (command !== undefined && this.stateValue === 'ready') this.options.onCommand(command);
      return;
    }
    const expected = this.expected.shift();
    const error = line[0] === 0x2d ? new RedisReplyError(line.toString('utf8', 1)) : undefined;
    if (expected === 'auth' && error !== undefined) {
      this.failHandshake(handshakeFailure('AUTH', error, this.user));
    } else if (expected === 'monitor') {
      if (error === undefined) this.becomeReady();
      else if (TRANSIENT.test(error.message)) {
        this.failHandshake(new ConnectionError(this.options.displayUrl, error.message));
      } else this.failHandshake(new MonitorRefusedError(error.message, this.user));
    }
    // CLIENT SETNAME may be refused (an ACL, an old server): cosmetic. A PONG is just progress.
  }

  private failHandshake(error: Error): void {
    const done = this.handshakeDone;
    if (done === undefined) return;
    done(error);
    // A reconnect refused: said, and tried again later (the owner may fix the ACL).
    this.socket?.destroy();
  }

  private becomeReady(): void {
    this.socket?.setTimeout(0);
    const wasDown = this.reconnectAttempts > 0;
    this.stateValue = 'ready';
    this.reconnectAttempts = 0;
    this.refusedLast = false;
    this.liveness.start();
    this.handshakeDone?.(null);
    if (wasDown) this.options.onUp();
  }

  private onSocketClosed(socket: net.Socket, failure: Error | undefined): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.liveness.stop();
    this.lines.reset();
    const detail =
      failure === undefined ? 'connection closed' : `connection lost (${failure.message})`;
    const handshaking = this.handshakeDone;
    // Before MONITOR said OK: the first attempt fails connect(), a later one retries.
    handshaking?.(new ConnectionError(this.options.displayUrl, detail, { cause: failure }));
    if (this.stateValue === 'closed' || this.stateValue === 'connecting') return;
    if (this.stateValue === 'ready') {
      this.options.onDown(new ConnectionError(this.options.displayUrl, detail, { cause: failure }));
    }
    this.stateValue = 'reconnecting';
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const backoff = Math.min(50 * 2 ** this.reconnectAttempts, this.options.maxReconnectDelayMs);
    // Each refusal is an entry in the server's ACL LOG: asked again rarely, not every second.
    const delay = this.refusedLast ? Math.max(backoff, REFUSED_RETRY_MS) : backoff;
    this.reconnectAttempts++;
    this.reconnectTimer = setTimeout(() => {
      if (this.stateValue !== 'reconnecting') return;
      this.openSocket((error) => {
        // A server still away was said once already; a refusal is news (an ACL changed).
        const refused = error instanceof MonitorRefusedError || error instanceof PermissionError;
        this.refusedLast = refused;
        if (refused && this.stateValue === 'reconnecting') this.options.onDown(error);
      });
    }, delay);
    this.reconnectTimer.unref();
  }
}
