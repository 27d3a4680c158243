/**
 * Chooses and connects the transport for a URL: a Redis Cluster for
 * `redis+cluster://…` (or `rediss+cluster://`), one server otherwise.
 */
import { ClusterTransport } from './cluster/cluster-transport.js';
import { isClusterUrl } from './cluster/cluster-url.js';
import { StandaloneTransport } from './standalone-transport.js';
import type { Transport, TransportOptions } from './transport.js';

/** Connects the transport `options.url` calls for; rejects with ConnectionError naming the URL. */
export async function connectTransport(options: TransportOptions): Promise<Transport> {
  if (isClusterUrl(options.url)) return ClusterTransport.connect(options);
  return StandaloneTransport.connect(options);
}
