/**
 * Watching a namespace's traffic: every payload published on any of its
 * channels or appended to any of its durable mailboxes, decoded when it is an
 * envelope (what `redis-actors monitor` shows).
 *
 * By Redis MONITOR first: it changes nothing for anyone else. A pattern
 * subscription (`PSUBSCRIBE <ns>:*`, the fallback when the server refuses
 * MONITOR) counts as a receiver of every channel, so while it runs a PUBLISH
 * nobody else receives still reports one receiver: an ask to an address
 * nobody serves waits for its timeout instead of failing with
 * NoRecipientError, and a message to a durable name is taken as delivered
 * instead of appended. MONITOR costs the server instead: it formats every
 * command it runs, for each monitor.
 */
import { PermissionError } from '../errors.js';
import {
  type CommandMonitor,
  type ConnectionTuning,
  MonitorRefusedError,
  type MonitoredCommand,
  type TlsOptions,
  type Transport,
  isClusterUrl,
  openCommandMonitor,
  parseRedisUrl,
} from '../transport/index.js';
import { type Logger, RateLimitedLog } from '../util/index.js';
import type { Codec, Names, PayloadAuth } from '../wire/index.js';
import { type MonitorEvent, type MonitorMode, eventsOf, oversizedEvent } from './monitor-event.js';
import { MonitoredPayloads } from './monitored-payloads.js';

export type { MonitorEvent, MonitorMode } from './monitor-event.js';
export { MONITOR_TEXT_LIMIT } from './monitor-event.js';

/** Options of `system.monitor(onEvent, options)`. */
export interface MonitorOptions {
  /**
   * How to watch. `auto`: Redis MONITOR, or PSUBSCRIBE when the server
   * refuses MONITOR (an ACL user without it, a managed Redis that disabled
   * it); the handle's `mode` says which. `monitor`: MONITOR only; rejects
   * when refused (PermissionError for NOPERM, else MonitorRefusedError).
   * `psubscribe`: the pattern subscription, which counts as a receiver of
   * every channel while it runs.
   * @default 'auto'
   */
  mode?: 'auto' | MonitorMode;
  /**
   * Longest MONITOR line decoded, in bytes. Redis writes each command as one
   * line, every byte of its arguments as up to 4 (`\xHH`), whoever sent it:
   * longer lines are skipped with bounded memory and counted, and a payload
   * of the namespace among them is shown as `oversized`. Framework processes
   * publish at most `claimCheckBytes` (larger messages go through a key);
   * durable appends may be larger, up to `maxMessageBytes`.
   * @default 4 × min(claimCheckBytes, maxMessageBytes) + 64 KiB (4.06 MiB with the defaults)
   */
  maxLineBytes?: number;
  /**
   * Where the monitor's warnings go (lines skipped as oversized, a lost or
   * refused MONITOR connection), each reason at a bounded rate.
   * @default the system's logger
   */
  logger?: Logger;
}

/** Counters of a monitor; cheap enough to poll. */
export interface MonitorStats {
  mode: MonitorMode;
  /** MONITOR mode: every server (every master of a cluster) is monitored right now. */
  connected: boolean;
  /** Events delivered to the callback. */
  events: number;
  /** MONITOR lines skipped for being longer than `maxLineBytes`, whatever command they held. */
  oversizedLines: number;
  /** Times a MONITOR connection was lost or refused on reconnect. */
  connectionLosses: number;
}

/**
 * A running monitor: call it to stop watching (it is the `Unsubscribe`
 * that `monitor()` resolved to before modes existed).
 */
export interface MonitorHandle {
  (): Promise<void>;
  /** How it watches: `monitor`, or `psubscribe` when MONITOR was refused (or asked for). */
  readonly mode: MonitorMode;
  /** Why `auto` fell back to `psubscribe`: the server's refusal of MONITOR. */
  readonly fallbackReason: string | undefined;
  stats(): MonitorStats;
}

/** What a monitor is given by its actor system. */
export interface MonitorParts {
  transport: Transport;
  names: Names;
  codec: Codec;
  auth: PayloadAuth | undefined;
  /** Where the MONITOR connection goes, and how (the system's own URL and settings). */
  url: string;
  tls: TlsOptions;
  tuning: ConnectionTuning;
  clientName: string;
  logger: Logger;
  /** {@link MonitorOptions.maxLineBytes} when not given. */
  defaultMaxLineBytes: number;
  /** Whether the system still runs: a MONITOR connection closes with it. */
  isRunning(): boolean;
}

/**
 * The shortest silence after which a MONITOR connection is presumed dead: a
 * server formatting a huge command for its monitors says nothing meanwhile
 * (about 4 s for 64 MB here), and replacing the connection would lose that
 * command and those that follow.
 */
const MIN_SILENCE_MS = 30_000;

/** How often a MONITOR connection checks that its system still runs. */
const OWNER_CHECK_MS = 1000;

export async function monitorNamespace(
  parts: MonitorParts,
  onEvent: (event: MonitorEvent) => void,
  options: MonitorOptions = {},
): Promise<MonitorHandle> {
  const mode = options.mode ?? 'auto';
  if (mode === 'psubscribe') return subscribePattern(parts, onEvent, undefined);
  try {
    return await watchCommands(parts, onEvent, options);
  } catch (error) {
    if (!(error instanceof MonitorRefusedError)) throw error;
    if (mode === 'monitor') {
      throw error.reply.startsWith('NOPERM')
        ? new PermissionError('MONITOR', error.user, error.reply, { cause: error })
        : error;
    }
    return subscribePattern(parts, onEvent, error.reply);
  }
}

function handle(
  stop: () => Promise<void>,
  mode: MonitorMode,
  fallbackReason: string | undefined,
  stats: () => Omit<MonitorStats, 'mode'>,
): MonitorHandle {
  return Object.assign(stop, { mode, fallbackReason, stats: () => ({ mode, ...stats() }) });
}

async function subscribePattern(
  parts: MonitorParts,
  onEvent: (event: MonitorEvent) => void,
  fallbackReason: string | undefined,
): Promise<MonitorHandle> {
  const { transport, names, codec, auth } = parts;
  const pattern = names.allChannels();
  let events = 0;
  await transport.psubscribe(pattern, (payload, channel) => {
    const source = {
      at: Date.now(),
      channel,
      target: names.addressOf(channel) ?? channel,
      signedFor: channel,
      command: undefined,
      client: undefined,
    };
    // A callback that throws is the subscription's to catch (counted as listener-threw).
    for (const event of eventsOf(payload, source, codec, auth)) {
      events++;
      onEvent(event);
    }
  });
  return handle(
    () => transport.punsubscribe(pattern),
    'psubscribe',
    fallbackReason,
    () => ({
      connected: transport.state.subscribed,
      events,
      oversizedLines: 0,
      connectionLosses: 0,
    }),
  );
}

async function watchCommands(
  parts: MonitorParts,
  onEvent: (event: MonitorEvent) => void,
  options: MonitorOptions,
): Promise<MonitorHandle> {
  const { transport, codec, auth } = parts;
  const maxLineBytes = options.maxLineBytes ?? parts.defaultMaxLineBytes;
  const log = new RateLimitedLog(options.logger ?? parts.logger);
  // Known before the first line: lines may come in the very chunk that confirms MONITOR.
  const db = isClusterUrl(parts.url) ? 0 : parseRedisUrl(parts.url).db;
  const payloads = new MonitoredPayloads(parts.names, db);
  const counts = { events: 0, oversizedLines: 0, connectionLosses: 0 };
  const deliver = (event: MonitorEvent): void => {
    counts.events++;
    try {
      onEvent(event);
    } catch (error) {
      // As a subscription does: counted (listener-threw) and logged by the system.
      transport.emit('listener-error', error, event.channel);
    }
  };
  const onCommand = (command: MonitoredCommand): void => {
    const found = payloads.find(command, Date.now(), true);
    if (found?.payload === undefined) return;
    for (const event of eventsOf(found.payload, found.source, codec, auth)) deliver(event);
  };
  const onOversized = (head: MonitoredCommand | undefined, lineBytes: number): void => {
    counts.oversizedLines++;
    const what =
      head === undefined
        ? 'unreadable'
        : `${(head.name ?? '?').toUpperCase().slice(0, 32)} from ${head.client.slice(0, 100)}`;
    log.warn(
      'monitor-oversized',
      `the monitor skipped a MONITOR line of ${lineBytes} bytes (${what}), over its limit of ` +
        `${maxLineBytes} bytes (maxLineBytes); ${counts.oversizedLines} skipped so far`,
    );
    const found = head === undefined ? undefined : payloads.find(head, Date.now(), false);
    if (found !== undefined) deliver(oversizedEvent(found.source, lineBytes, maxLineBytes));
  };
  const opened: CommandMonitor = await openCommandMonitor({
    ...parts.tuning,
    // Redis formats a command's line for each monitor before running it: a 64 MB SET
    // stalls the server (and the feed) for seconds. Silence is not death here.
    healthCheckTimeoutMs: Math.max(parts.tuning.healthCheckTimeoutMs, MIN_SILENCE_MS),
    url: parts.url,
    tls: parts.tls,
    clientName: parts.clientName,
    maxLineBytes,
    onCommand,
    onOversized,
    onDown: (error) => {
      counts.connectionLosses++;
      log.warn(
        'monitor-down',
        `the monitor's MONITOR connection is down, reconnecting; what runs meanwhile is not seen: ${error.message}`,
      );
    },
    onUp: () => {
      log.warn('monitor-up', "the monitor's MONITOR connection is back");
    },
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      clearInterval(ownerCheck);
      await opened.close();
    })();
    return stopped;
  };
  // Not tied to the transport, so closed once the system stopped, even when never stopped here.
  const ownerCheck = setInterval(() => {
    if (!parts.isRunning()) void stop();
  }, OWNER_CHECK_MS);
  ownerCheck.unref();
  return handle(stop, 'monitor', undefined, () => ({
    connected: opened.isReady,
    ...counts,
  }));
}
