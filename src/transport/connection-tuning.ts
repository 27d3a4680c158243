/**
 * How a connection to Redis is made, kept alive and replaced: one set of
 * settings for every connection of an actor system or a redis-ipc component.
 */

/** Connection settings, each with its default in {@link DEFAULT_CONNECTION_TUNING}. */
export interface ConnectionTuning {
  /**
   * Time allowed for connecting to Redis (TCP/unix connect and handshake).
   * @default 5000
   */
  connectTimeoutMs: number;
  /**
   * Most commands kept while Redis is unreachable; more fail at once with ConnectionError.
   * @default 10000
   */
  maxOfflineCommands: number;
  /**
   * Longest pause between reconnection attempts after Redis went away.
   * @default 1000
   */
  maxReconnectDelayMs: number;
  /**
   * How often each connection to Redis is checked: an idle one is sent a PING.
   * @default 1000
   */
  healthCheckIntervalMs: number;
  /**
   * A connection that awaits a reply and reads nothing for this long is presumed
   * dead (a frozen server, a half-open TCP connection) and replaced: commands on
   * it fail with ConnectionError and a reconnect starts. Detection takes at most
   * `healthCheckIntervalMs + healthCheckTimeoutMs`. Raise it if you run Redis
   * commands or scripts that take longer.
   * @default 2000
   */
  healthCheckTimeoutMs: number;
}

export const DEFAULT_CONNECTION_TUNING: Readonly<ConnectionTuning> = {
  connectTimeoutMs: 5000,
  maxOfflineCommands: 10_000,
  maxReconnectDelayMs: 1000,
  healthCheckIntervalMs: 1000,
  healthCheckTimeoutMs: 2000,
};

/** The names of the tuning fields. */
export const CONNECTION_TUNING_KEYS = Object.keys(
  DEFAULT_CONNECTION_TUNING,
) as readonly (keyof ConnectionTuning)[];

/** The tuning fields of `options` (anything else in it is left out). */
export function tuningOf(options: ConnectionTuning): ConnectionTuning {
  const tuning = { ...DEFAULT_CONNECTION_TUNING };
  for (const key of CONNECTION_TUNING_KEYS) tuning[key] = options[key];
  return tuning;
}

/** The tuning fields given in `options` (undefined ones left out, for the defaults). */
export function definedTuning(options: Partial<ConnectionTuning>): Partial<ConnectionTuning> {
  const tuning: Partial<ConnectionTuning> = {};
  for (const key of CONNECTION_TUNING_KEYS) {
    const value = options[key];
    if (value !== undefined) tuning[key] = value;
  }
  return tuning;
}
