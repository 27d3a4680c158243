/**
 * Watching every command a Redis server (or every master of a cluster) runs,
 * through MONITOR: see monitor-connection.ts for one server,
 * cluster/cluster-monitor.ts for a cluster, and monitor-line.ts for how each
 * line is read. MONITOR costs the server: it formats every command it runs
 * for each monitor.
 */
import { ClusterMonitor } from './cluster/cluster-monitor.js';
import { isClusterUrl } from './cluster/cluster-url.js';
import {
  DEFAULT_CONNECTION_TUNING,
  type ConnectionTuning,
  definedTuning,
} from './connection-tuning.js';
import { type MonitorCallbacks, MonitorConnection } from './monitor-connection.js';
import { type TlsOptions, parseRedisUrl, redactUrl } from './redis-url.js';

export { MonitorRefusedError } from './monitor-connection.js';
export { MonitoredCommand } from './monitor-line.js';

export interface CommandMonitorOptions extends Partial<ConnectionTuning>, MonitorCallbacks {
  /** Redis URL, as for the transport (`redis+cluster://…` monitors every master). */
  url: string;
  /** TLS settings, used for `rediss://` URLs. */
  tls?: TlsOptions;
}

/** A MONITOR under way. */
export interface CommandMonitor {
  /** The database the URL selects (0 on a cluster): where the namespace's keys are. */
  readonly db: number;
  /** Every server (every master) is monitored right now. */
  readonly isReady: boolean;
  close(): Promise<void>;
}

/**
 * Connects and enters MONITOR mode. Rejects with MonitorRefusedError when
 * the server (any master) refuses MONITOR, else with ConnectionError or
 * PermissionError.
 */
export async function openCommandMonitor(options: CommandMonitorOptions): Promise<CommandMonitor> {
  const tuning = { ...DEFAULT_CONNECTION_TUNING, ...definedTuning(options) };
  const tls = options.tls ?? {};
  if (isClusterUrl(options.url)) {
    const cluster = new ClusterMonitor({ ...options, ...tuning, tls });
    await cluster.start();
    return {
      db: 0,
      get isReady() {
        return cluster.isReady;
      },
      close: () => cluster.close(),
    };
  }
  const endpoint = parseRedisUrl(options.url);
  const connection = new MonitorConnection({
    ...options,
    ...tuning,
    tls,
    endpoint,
    displayUrl: redactUrl(options.url),
  });
  await connection.connect();
  return {
    db: endpoint.db,
    get isReady() {
      return connection.isReady;
    },
    close: () => connection.close(),
  };
}
