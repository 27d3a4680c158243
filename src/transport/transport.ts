/**
 * The transport: what the core needs of Redis, and nothing more. Nothing
 * above src/transport/ sees ioredis or a socket; an implementation (today's
 * standalone one, a cluster one, an in-process one for unit tests) is chosen
 * by {@link connectTransport} from the URL.
 */
import type { EventEmitter } from 'node:events';
import type { ConnectionTuning } from './connection-tuning.js';
import type { TlsOptions } from './redis-url.js';
import type { CommandArgument, RespValue } from './resp.js';

export type { CommandArgument, RespValue } from './resp.js';

/** Receives the payloads of a subscription, with the channel they came on. */
export type MessageHandler = (payload: Buffer, channel: string) => void;

/** Callback with the number of subscribers a PUBLISH reached. */
export type PublishCallback = (error: Error | null, receivers: number) => void;

/** Callback with a command's reply. */
export type ReplyCallback = (error: Error | null, reply: RespValue) => void;

export interface TransportOptions extends ConnectionTuning {
  /** Redis URL: `redis://`, `rediss://`, `unix:///path` or an absolute socket path. */
  url: string;
  /** Base of the client names shown by `CLIENT LIST` (`<base>:pub`, `<base>:sub`). */
  clientName: string;
  /** Joins the payloads of consecutive mergeable publishes to one channel (see publishMergeable). */
  combinePublishes?: (payloads: string[]) => string;
  /**
   * Signs each mergeable publish's payload (a lone one, or the combined run)
   * just before it is written: a run is only known then. Other publishes come
   * signed from their callers.
   */
  signPayload?: (channel: string, payload: string) => string;
  /** TLS settings, used for `rediss://` URLs. */
  tls?: TlsOptions;
}

/** Connection state as seen from above the transport. */
export interface TransportState {
  /** The publishing connection is up. */
  connected: boolean;
  /** The subscribing connection is up with every channel subscribed. */
  subscribed: boolean;
  /** Channels and patterns subscribed. */
  subscriptions: number;
  /** Commands sent and not yet answered (or waiting for a connection). */
  commandsInFlight: number;
  /** Writes to the publishing socket so far (every command of a tick goes in one). */
  writes: number;
}

/** A connection of its own, for commands that block it (BLPOP, …); see {@link Transport.openDedicated}. */
export interface DedicatedConnection {
  call(args: readonly CommandArgument[]): Promise<RespValue>;
  /**
   * Ends the blocking command under way at once, as if it had timed out
   * (CLIENT UNBLOCK, sent on the shared connection); nothing it would have
   * taken is lost.
   */
  unblock(): Promise<void>;
  /** Closes it after replies to commands already sent (up to `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/** Events of a {@link Transport}. */
export interface TransportEvents {
  /** A connection was lost (reconnecting starts at once). */
  down: [error: Error];
  /** Both connections are back, every channel resubscribed. */
  up: [];
  /** The mailbox could not be resubscribed (retried until it is). */
  'resubscribe-failed': [error: Error];
  /** The publishing socket drained: see {@link Transport.backlogBytes}. */
  writable: [];
  /** A message handler threw; the message is lost to it, the subscription goes on. */
  'listener-error': [error: unknown, channel: string];
}

export interface Transport extends EventEmitter<TransportEvents> {
  /** The URL, password hidden, for messages. */
  readonly displayUrl: string;
  /**
   * The command that reaches this transport's subscribers, for scripts that
   * publish: SPUBLISH on a cluster (sharded pub/sub), PUBLISH otherwise.
   */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  readonly state: TransportState;
  /** Bytes given to the publishing connection and not yet written to its socket. */
  readonly backlogBytes: number;
  /** PUBLISH, batched with every other command of this event-loop turn. */
  publish(
    channel: string,
    payload: string | Buffer | readonly Buffer[],
    callback: PublishCallback,
  ): void;
  /**
   * PUBLISH that may travel in one message with the mergeable publishes to the
   * same channel right before it, joined by `combinePublishes`.
   */
  publishMergeable(channel: string, payload: string, callback: PublishCallback): void;
  /** Any other Redis command (keys, lists, …), on the publishing connection. */
  command(args: readonly CommandArgument[]): Promise<RespValue>;
  /** Callback form of {@link command}. */
  send(args: readonly CommandArgument[], callback: ReplyCallback): void;
  /** Subscribes `channel`; resolves once Redis confirmed the subscription. */
  subscribe(channel: string, handler: MessageHandler): Promise<void>;
  /** Unsubscribes; the handler keeps receiving until Redis confirms. */
  unsubscribe(channel: string): Promise<void>;
  /** Subscribes a glob pattern; the handler receives the matching channel. */
  psubscribe(pattern: string, handler: MessageHandler): Promise<void>;
  punsubscribe(pattern: string): Promise<void>;
  /** Replaces the subscribing connection (and resubscribes): the mailbox looked deaf. */
  reconnectSubscriber(): void;
  /** Another connection for commands that block it; closed with the transport. */
  openDedicated(name: string): Promise<DedicatedConnection>;
  /** Closes every connection, after replies to commands already sent (up to `graceMs`). */
  close(graceMs?: number): Promise<void>;
}
