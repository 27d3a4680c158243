/**
 * Options of an actor system and of actors, their defaults in one place, and
 * the resolver that validates them.
 */
import fs from 'node:fs';
import { discoverBrokerUrl } from '../broker/index.js';
import { BrokerNotFoundError, InvalidOptionError } from '../errors.js';
import {
  CONNECTION_TUNING_KEYS,
  type ConnectionTuning,
  DEFAULT_CONNECTION_TUNING,
  type TlsOptions,
  tlsFromEnvironment,
} from '../transport/index.js';
import { type Logger, createStderrLogger } from '../util/index.js';
import {
  DEFAULT_MAX_NESTING_DEPTH,
  MAX_NESTING_DEPTH_LIMIT,
  resolveNamespace,
} from '../wire/index.js';

/** What a full mailbox does with one more message. */
export type OverflowPolicy = 'reject' | 'drop';

/** Per-actor mailbox settings. */
export interface MailboxOptions {
  /**
   * Most messages that may wait in the mailbox (the ones being handled not counted).
   * @default 10000
   */
  capacity?: number;
  /**
   * How many messages the actor handles at once. 1 keeps arrival order.
   * @default 1
   */
  concurrency?: number;
  /**
   * Policy when a message arrives at a full mailbox. Either way it is counted in
   * `stats().dropped.mailboxFull`.
   * - `'reject'`: an ask is answered at once with `MailboxFullError`; a tell is dropped.
   * - `'drop'`: asks and tells are dropped; askers find out by timeout.
   * @default 'reject'
   */
  overflow?: OverflowPolicy;
  /**
   * At most `count` messages start per `intervalMs` (p-queue's interval cap, a
   * sliding window). Messages beyond the rate wait in the mailbox, within its
   * capacity; overflow follows the policy above. For actors that call a
   * rate-limited API, or must not be driven faster than a device.
   * @default undefined (no limit)
   */
  rateLimit?: RateLimit | undefined;
  /**
   * A durable mailbox (needs a name): a Redis Stream `<ns>:inbox:{<name>}` that
   * keeps messages until the actor handled them, across restarts and crashes
   * (at-least-once: see docs/RELIABILITY.md). `capacity` is then the stream's
   * length: a message beyond it is refused to its sender by `overflow`.
   * @default false
   */
  durable?: boolean;
  /**
   * With `durable`: several processes spawn the same name and share its
   * stream, each message handled by one member (competing consumers).
   * @default false
   */
  pool?: boolean;
  /**
   * With `durable`: deliveries of a message (the first, retries after its
   * handler failed, takeovers from a consumer that died) before it goes to
   * the dead letters `<ns>:dead:{<name>}`.
   * @default 5
   */
  maxDeliveries?: number;
  /**
   * With `durable`: a message this long unacknowledged is taken over from its
   * consumer even though that consumer's process is alive (stuck). Without it,
   * only the messages of consumers whose process is gone are taken over.
   * @default undefined (never)
   */
  claimAfterMs?: number | undefined;
  /**
   * With `durable`: the wait before a message whose handler failed is tried
   * again, doubled at each further failure (at most 30 s).
   * @default 1000
   */
  retryDelayMs?: number;
}

/** A rate: at most `count` in any `intervalMs`. */
export interface RateLimit {
  count: number;
  intervalMs: number;
}

/**
 * The namespace secret: with it every payload is signed and every payload
 * received is verified (docs/SECURITY.md). All processes of the namespace need it.
 */
export interface AuthOptions {
  /**
   * The secret (at least 16 bytes; use 32 random ones, e.g. `openssl rand -base64 32`).
   * A string starting with `base64:` is decoded.
   */
  secret?: string | Buffer;
  /** A file holding the secret (its contents, surrounding whitespace removed). */
  secretFile?: string;
}

/**
 * Options of {@link ActorSystem}. The connection settings (`connectTimeoutMs`,
 * `healthCheckTimeoutMs`, …) are those of {@link ConnectionTuning}.
 */
export interface ActorSystemOptions extends Partial<ConnectionTuning> {
  /**
   * Redis URL: `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS),
   * `unix:///path/redis.sock[?username=…&password=…&db=N]`.
   * @default process.env.REDIS_URL, else the private broker started by `redis-actors broker`
   */
  url?: string;
  /**
   * TLS settings for `rediss://` URLs (a private CA, client certificates, …),
   * as for Node's `tls.connect`. Supervisors hand them to their children.
   * @default from REDIS_ACTORS_TLS_CA, REDIS_ACTORS_TLS_CERT, REDIS_ACTORS_TLS_KEY
   *   (a file path or the PEM text each), else {} (the system trust store)
   */
  tls?: TlsOptions;
  /**
   * The namespace secret: sign every payload sent and refuse every payload
   * received without a valid signature (`unsigned`, `bad-mac`).
   * @default REDIS_ACTORS_SECRET, else the file REDIS_ACTORS_SECRET_FILE names, else none
   */
  auth?: AuthOptions;
  /**
   * Prefix of every channel and key, so that several applications share one Redis.
   * @default process.env.REDIS_ACTORS_NAMESPACE, else 'ra'
   */
  namespace?: string;
  /**
   * Timeout of an `ask` that does not pass its own `timeoutMs`.
   * @default 5000
   */
  askTimeoutMs?: number;
  /**
   * Largest message sent or accepted, in bytes of encoded envelope (binary
   * attachments included). Larger sends fail with MessageTooLargeError; larger
   * arrivals are refused without being fetched.
   * @default 268435456 (256 MiB)
   */
  maxMessageBytes?: number;
  /**
   * Messages larger than this travel by claim check: stored under a key with a
   * TTL, announced by a small stub on the channel, fetched and deleted by the
   * receiver. Keeps pub/sub messages far below Redis's 32 MB subscriber limit.
   * @default 1048576 (1 MiB)
   */
  claimCheckBytes?: number;
  /**
   * How long a claim-checked message waits to be fetched before Redis drops it.
   * @default 60000
   */
  claimCheckTtlMs?: number;
  /**
   * Capture the caller's stack at every ask, so that an ask's failure
   * (AskTimeoutError, NoRecipientError, …) shows where the ask was made. Off by
   * default: a stack capture costs about as much CPU as the rest of an ask.
   * @default false
   */
  askStackTraces?: boolean;
  /**
   * OpenTelemetry tracing of tells, asks and handlers (PRODUCER and CONSUMER
   * spans, W3C trace context in the envelope; docs/PROTOCOL.md). `'auto'`:
   * when `@opentelemetry/api` (an optional peer dependency) can be imported,
   * spans are made while a tracer provider is registered, even one registered
   * after the system started; without the package, silently none. `true`: the
   * same, but ActorSystem.start rejects with InvalidOptionError when the
   * package cannot be imported. `false`: never (the package is not imported).
   * Without a registered provider a message costs one check (a property read).
   * @default 'auto'
   */
  tracing?: boolean | 'auto';
  /** Default mailbox settings of actors spawned in this system. */
  mailbox?: MailboxOptions;
  /**
   * How long a received message id is remembered to drop duplicates. Tells
   * and asks sent longer ago than this plus `maxClockSkewMs` (by their
   * `sentAt`) are refused as `stale`: a repeat of them could no longer be recognised.
   * @default 10000
   */
  dedupeWindowMs?: number;
  /**
   * How far the clocks of senders may be off this machine's. A tell or ask
   * whose `sentAt` is further in the future is refused as `future`; see
   * docs/RELIABILITY.md ("Hostile input") for what it bounds.
   * @default 10000
   */
  maxClockSkewMs?: number;
  /**
   * Deepest nesting of arrays and objects in a message body (and in anything
   * else read from Redis: topics, shared values, redis-ipc messages). Deeper
   * input is refused as `too-deep` before anything walks it; deeper bodies
   * are refused at send with InvalidMessageError. At most 1000.
   * @default 200
   */
  maxNestingDepth?: number;
  /**
   * Bytes the publishing connection may hold unwritten (its socket's buffer
   * plus this turn's commands). Beyond it, sends wait until the socket drains
   * instead of growing memory: the message is encoded only then, so do not
   * change a body after passing it to tell/ask until the promise settles. One
   * message larger than the limit still goes out alone.
   * @default 8388608 (8 MiB)
   */
  maxWriteBufferBytes?: number;
  /**
   * Most message ids remembered per dedupe window (bounds memory under load).
   * @default 100000
   */
  dedupeMaxEntries?: number;
  /**
   * How long the probe sent through Redis to this system's own mailbox after a
   * reconnect may take before the mailbox is considered deaf and resubscribed.
   * @default 1000
   */
  probeTimeoutMs?: number;
  /**
   * How often this system refreshes its process's address claim, the one key
   * that keeps all its actors listed and its names held (one Lua script,
   * whatever the number of actors).
   * @default 2000
   */
  presenceIntervalMs?: number;
  /**
   * How long an actor stays listed after its host stopped refreshing its
   * address claim (e.g. died). Longer than a main-thread stall you consider
   * healthy.
   * @default 10000
   */
  presenceTtlMs?: number;
  /**
   * How long `stop()` waits for messages being handled to finish.
   * @default 5000
   */
  stopTimeoutMs?: number;
  /**
   * Where drops, losses and recoveries are reported.
   * @default a stderr logger, level from REDIS_ACTORS_LOG (default 'warn')
   */
  logger?: Logger;
}

export type ResolvedMailboxOptions = Required<Omit<MailboxOptions, 'rateLimit' | 'claimAfterMs'>> &
  Pick<MailboxOptions, 'rateLimit' | 'claimAfterMs'>;

export interface ResolvedActorSystemOptions extends Required<
  Omit<ActorSystemOptions, 'mailbox' | 'url' | 'auth'>
> {
  url: string;
  mailbox: ResolvedMailboxOptions;
  /** The namespace secret's bytes, when there is one. */
  secret: Buffer | undefined;
}

/** Every default, in one place. */
export const DEFAULTS = {
  tls: {},
  askTimeoutMs: 5000,
  askStackTraces: false,
  tracing: 'auto',
  maxMessageBytes: 256 * 1024 * 1024,
  claimCheckBytes: 1024 * 1024,
  claimCheckTtlMs: 60_000,
  mailbox: {
    capacity: 10_000,
    concurrency: 1,
    overflow: 'reject',
    rateLimit: undefined,
    durable: false,
    pool: false,
    maxDeliveries: 5,
    claimAfterMs: undefined,
    retryDelayMs: 1000,
  },
  dedupeWindowMs: 10_000,
  dedupeMaxEntries: 100_000,
  maxClockSkewMs: 10_000,
  maxNestingDepth: DEFAULT_MAX_NESTING_DEPTH,
  maxWriteBufferBytes: 8 * 1024 * 1024,
  ...DEFAULT_CONNECTION_TUNING,
  probeTimeoutMs: 1000,
  presenceIntervalMs: 2000,
  presenceTtlMs: 10_000,
  stopTimeoutMs: 5000,
} as const satisfies Omit<ResolvedActorSystemOptions, 'url' | 'namespace' | 'logger' | 'secret'>;

export function resolveMailboxOptions(
  options: MailboxOptions | undefined,
  base: ResolvedMailboxOptions = DEFAULTS.mailbox,
): ResolvedMailboxOptions {
  const resolved = { ...base, ...stripUndefined(options ?? {}) };
  positiveInteger('mailbox.capacity', resolved.capacity);
  positiveInteger('mailbox.concurrency', resolved.concurrency);
  const overflow: string = resolved.overflow;
  if (overflow !== 'reject' && overflow !== 'drop') {
    throw new InvalidOptionError('mailbox.overflow', `must be 'reject' or 'drop', got ${overflow}`);
  }
  if (resolved.rateLimit !== undefined) {
    positiveInteger('mailbox.rateLimit.count', resolved.rateLimit.count);
    positiveInteger('mailbox.rateLimit.intervalMs', resolved.rateLimit.intervalMs);
  }
  positiveInteger('mailbox.maxDeliveries', resolved.maxDeliveries);
  positiveInteger('mailbox.retryDelayMs', resolved.retryDelayMs);
  if (resolved.claimAfterMs !== undefined)
    positiveInteger('mailbox.claimAfterMs', resolved.claimAfterMs);
  if (resolved.pool && !resolved.durable) {
    throw new InvalidOptionError(
      'mailbox.pool',
      'a pool shares a durable mailbox: set durable: true too',
    );
  }
  return resolved;
}

export function resolveActorSystemOptions(
  options: ActorSystemOptions = {},
): ResolvedActorSystemOptions {
  const given = stripUndefined(options);
  const url = resolveRedisUrl(given.url);
  const resolved: ResolvedActorSystemOptions = {
    ...DEFAULTS,
    ...given,
    url,
    namespace: resolveNamespace(given.namespace),
    mailbox: resolveMailboxOptions(given.mailbox),
    logger: given.logger ?? createStderrLogger(),
    tls: given.tls ?? tlsFromEnvironment(),
    secret: resolveSecret(given.auth),
  };
  for (const key of [
    'askTimeoutMs',
    'maxMessageBytes',
    'claimCheckBytes',
    'claimCheckTtlMs',
    'dedupeWindowMs',
    'dedupeMaxEntries',
    'maxClockSkewMs',
    'maxNestingDepth',
    'maxWriteBufferBytes',
    ...CONNECTION_TUNING_KEYS,
    'probeTimeoutMs',
    'presenceIntervalMs',
    'presenceTtlMs',
    'stopTimeoutMs',
  ] as const) {
    positiveInteger(key, resolved[key]);
  }
  if (resolved.maxNestingDepth > MAX_NESTING_DEPTH_LIMIT) {
    throw new InvalidOptionError(
      'maxNestingDepth',
      `must be at most ${MAX_NESTING_DEPTH_LIMIT}, got ${resolved.maxNestingDepth}`,
    );
  }
  const tracing: unknown = resolved.tracing;
  if (tracing !== true && tracing !== false && tracing !== 'auto') {
    throw new InvalidOptionError(
      'tracing',
      `must be true, false or 'auto', got ${String(tracing)}`,
    );
  }
  return resolved;
}

/** The environment variables of the namespace secret. */
export const SECRET_ENV = {
  secret: 'REDIS_ACTORS_SECRET',
  file: 'REDIS_ACTORS_SECRET_FILE',
} as const;

/** The secret's bytes from the option, else the environment; undefined for none. */
export function resolveSecret(
  auth: AuthOptions | undefined,
  env = process.env,
): Buffer | undefined {
  const file = auth?.secretFile ?? (auth === undefined ? env[SECRET_ENV.file] : undefined);
  let secret: string | Buffer | undefined =
    auth?.secret ?? (auth === undefined ? env[SECRET_ENV.secret] : undefined);
  if (secret === undefined && file !== undefined && file !== '') {
    try {
      secret = fs.readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new InvalidOptionError(
        'auth.secretFile',
        `cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
  }
  if (secret === undefined || secret === '') return undefined;
  const bytes =
    typeof secret === 'string'
      ? secret.startsWith('base64:')
        ? Buffer.from(secret.slice('base64:'.length), 'base64')
        : Buffer.from(secret, 'utf8')
      : Buffer.from(secret);
  if (bytes.length < 16) {
    throw new InvalidOptionError(
      'auth.secret',
      `is ${bytes.length} bytes; use at least 16, better 32 random ones (openssl rand -base64 32)`,
    );
  }
  return bytes;
}

/**
 * The Redis URL to use: `given`, else REDIS_URL, else the private broker's.
 * Throws BrokerNotFoundError when there is none.
 */
export function resolveRedisUrl(given: string | undefined): string {
  const envUrl = process.env.REDIS_URL === '' ? undefined : process.env.REDIS_URL;
  const url = given ?? envUrl ?? discoverBrokerUrl();
  if (url === undefined) {
    throw new BrokerNotFoundError('no url option, no REDIS_URL, and no private broker running');
  }
  return url;
}

export function positiveInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidOptionError(name, `must be a positive integer, got ${String(value)}`);
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
