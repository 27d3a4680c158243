/**
 * Chooses and connects the transport for a URL: the seam where a cluster
 * transport (`redis+cluster://…`) will plug in beside the standalone one.
 */
import { StandaloneTransport } from './standalone-transport.js';
import type { Transport, TransportOptions } from './transport.js';

/** Connects the transport `options.url` calls for; rejects with ConnectionError naming the URL. */
export async function connectTransport(options: TransportOptions): Promise<Transport> {
  return StandaloneTransport.connect(options);
}
