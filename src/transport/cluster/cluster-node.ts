/**
 * One master of a cluster as the transport sees it: a publishing/command
 * connection (SPUBLISH, pipelined like the standalone one) and a sharded
 * subscriber (SSUBSCRIBE) for the channels whose slots it serves.
 */
import { CommandConnection, type CommandConnectionOptions } from '../command-connection.js';
import { SubscriberConnection } from '../subscriber-connection.js';
import type { TcpEndpoint } from './cluster-url.js';
import type { ClusterNodeAddress } from './slot-map.js';

/** What every connection of a cluster shares (the endpoint is each node's). */
export interface NodeConnectionOptions {
  connection: Omit<
    CommandConnectionOptions,
    'endpoint' | 'clientName' | 'combinePublishes' | 'signPayload' | 'publishCommand'
  >;
  /** How the publishing connections merge and sign (see TransportOptions). */
  publishing: Pick<CommandConnectionOptions, 'combinePublishes' | 'signPayload'>;
  /** Credentials and TLS of the seeds, used for every node. */
  seed: TcpEndpoint;
  clientName: string;
}

/** Options of a plain connection to the node at `address`, named `<clientName>:<role>`. */
export function connectionOptions(
  options: NodeConnectionOptions,
  address: { host: string; port: number },
  role: string,
): CommandConnectionOptions {
  return {
    ...options.connection,
    endpoint: endpointOf(options.seed, address),
    clientName: `${options.clientName}:${role}`,
  };
}

export class ClusterNode {
  readonly commands: CommandConnection;
  readonly subscriber: SubscriberConnection;
  private starting: Promise<void> | undefined;

  constructor(
    readonly address: ClusterNodeAddress,
    options: NodeConnectionOptions,
  ) {
    this.commands = new CommandConnection({
      ...connectionOptions(options, address, 'pub'),
      ...options.publishing,
      publishCommand: 'SPUBLISH',
    });
    this.subscriber = new SubscriberConnection({
      ...connectionOptions(options, address, 'sub'),
      sharded: true,
    });
  }

  /**
   * Connects both; commands sent meanwhile wait for the connection. Every call
   * gets the same promise: the transport's connect must see a master that
   * cannot be reached (a TLS certificate refused), not a start already begun.
   */
  start(): Promise<void> {
    this.starting ??= Promise.allSettled([this.commands.connect(), this.subscriber.connect()]).then(
      (results) => {
        // Both settled, so a caller that closes on failure closes neither mid-handshake;
        // the command connection's reason first: ioredis says only "Connection is closed".
        for (const result of results) if (result.status === 'rejected') throw result.reason;
      },
    );
    return this.starting;
  }

  get isReady(): boolean {
    return this.commands.state === 'ready' && this.subscriber.isReady;
  }

  async close(graceMs?: number): Promise<void> {
    await Promise.all([this.subscriber.close(), this.commands.close(graceMs)]);
  }
}

/** The endpoint of a node: its host and port, with the seeds' credentials and TLS. */
export function endpointOf(
  seed: TcpEndpoint,
  address: { host: string; port: number },
): TcpEndpoint {
  return { ...seed, host: address.host, port: address.port };
}
