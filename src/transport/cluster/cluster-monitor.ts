/**
 * MONITOR on a Redis Cluster: one {@link MonitorConnection} per master, each
 * of which sees the commands its node runs (an SPUBLISH or XADD on the
 * master of its slot, a classic PUBLISH on the node it was sent to). The
 * masters are followed as the slot map changes: read every few seconds, and
 * every 250 ms while a master is not monitored (a failover promotes a
 * replica, which is then monitored in its place). Replicas are not
 * monitored: they run what their master ran, which would show twice.
 */
import {
  type ConnectionTuning,
  DEFAULT_CONNECTION_TUNING,
  definedTuning,
} from '../connection-tuning.js';
import { MonitorConnection, MonitorRefusedError } from '../monitor-connection.js';
import type { MonitorConnectionOptions } from '../monitor-connection.js';
import { redactUrl } from '../redis-url.js';
import type { NodeConnectionOptions } from './cluster-node.js';
import { endpointOf } from './cluster-node.js';
import { parseClusterUrl } from './cluster-url.js';
import { SlotMapSource } from './slot-map-source.js';
import type { ClusterNodeAddress } from './slot-map.js';

/** How often the map is read while a master is not monitored. */
const CATCH_UP_MS = 250;

/** What a cluster monitor needs: the callbacks of each node's connection, and where to connect. */
export type ClusterMonitorOptions = Omit<
  MonitorConnectionOptions,
  'endpoint' | 'displayUrl' | keyof ConnectionTuning
> &
  Partial<ConnectionTuning> & { url: string };

export class ClusterMonitor {
  private readonly slots: SlotMapSource;
  private readonly connections = new Map<string, MonitorConnection>();
  private readonly nodeOptions: NodeConnectionOptions;
  private readonly tuning: ConnectionTuning;
  private readonly displayUrl: string;
  private catchUp: NodeJS.Timeout | undefined;
  private following = false;
  private closed = false;

  constructor(private readonly options: ClusterMonitorOptions) {
    const seeds = parseClusterUrl(options.url);
    this.displayUrl = redactUrl(options.url);
    this.tuning = { ...DEFAULT_CONNECTION_TUNING, ...definedTuning(options) };
    this.nodeOptions = {
      connection: { ...this.tuning, tls: options.tls, displayUrl: this.displayUrl },
      publishing: {},
      seed: seeds[0] as (typeof seeds)[number],
      clientName: options.clientName,
    };
    this.slots = new SlotMapSource({
      seeds,
      nodeOptions: this.nodeOptions,
      connectionOf: () => undefined,
      onChange: () => {
        if (this.following) void this.follow();
      },
    });
  }

  /** Every master monitored now. */
  get isReady(): boolean {
    const masters = this.slots.map.masters;
    return masters.every((master) => this.connections.get(master.key)?.isReady === true);
  }

  /**
   * Reads the slot map and monitors every master. Rejects with
   * {@link MonitorRefusedError} when one of them refuses MONITOR (then none is
   * monitored), or with the connection's error.
   */
  async start(): Promise<void> {
    try {
      await this.slots.refresh();
      const masters = this.slots.map.masters;
      const started = await Promise.allSettled(masters.map((master) => this.watch(master)));
      const refused = started.find(
        (result) => result.status === 'rejected' && result.reason instanceof MonitorRefusedError,
      );
      const failed = refused ?? started.find((result) => result.status === 'rejected');
      if (failed?.status === 'rejected') throw failed.reason;
    } catch (error) {
      await this.close();
      throw error;
    }
    this.following = true;
    this.slots.startPeriodicRefresh();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.slots.stop();
    clearInterval(this.catchUp);
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((connection) => connection.close()));
  }

  /** Monitors `master`; rejects (and forgets it) when that fails. */
  private async watch(master: ClusterNodeAddress): Promise<void> {
    const connection = new MonitorConnection({
      ...this.options,
      ...this.tuning,
      endpoint: endpointOf(this.nodeOptions.seed, master),
      displayUrl: this.displayUrl,
      onDown: (error) => {
        this.startCatchUp();
        this.options.onDown(error);
      },
    });
    this.connections.set(master.key, connection);
    try {
      await connection.connect();
    } catch (error) {
      if (this.connections.get(master.key) === connection) this.connections.delete(master.key);
      throw error;
    }
  }

  /** Monitors the masters of the current map, and no other node. */
  private async follow(): Promise<void> {
    if (this.closed) return;
    const masters = this.slots.map.masters;
    for (const [key, connection] of this.connections) {
      if (masters.some((master) => master.key === key)) continue;
      this.connections.delete(key);
      void connection.close();
    }
    const missing = masters.filter((master) => !this.connections.has(master.key));
    const started = await Promise.allSettled(missing.map((master) => this.watch(master)));
    for (const result of started) {
      if (result.status === 'rejected') {
        this.startCatchUp();
        this.options.onDown(result.reason as Error);
      }
    }
    if (missing.length > 0 && started.every((result) => result.status === 'fulfilled')) {
      this.options.onUp();
    }
  }

  /** Reads the map often until every master of it is monitored. */
  private startCatchUp(): void {
    if (this.catchUp !== undefined || this.closed) return;
    this.catchUp = setInterval(() => {
      void this.slots
        .refresh()
        .then(() => this.follow())
        .then(() => {
          if (this.isReady && this.slots.map.complete) {
            clearInterval(this.catchUp);
            this.catchUp = undefined;
          }
        })
        .catch(() => undefined);
    }, CATCH_UP_MS);
    this.catchUp.unref();
  }
}
