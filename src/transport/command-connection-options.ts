/** What a command connection is given: where to connect, how to name itself, how to tune. */
import type { ConnectionTuning } from './connection-tuning.js';
import type { RedisEndpoint, TlsOptions } from './redis-url.js';

export interface CommandConnectionOptions extends ConnectionTuning {
  endpoint: RedisEndpoint;
  tls: TlsOptions;
  /** URL with the password redacted, for messages. */
  displayUrl: string;
  /** Shown by `CLIENT LIST`, so `redis-cli` users can tell connections apart. */
  clientName: string;
  /**
   * Joins the payloads of consecutive {@link CommandConnection.publishMergeable}
   * calls to one channel into one payload; without it nothing is merged.
   */
  combinePublishes?: (payloads: string[]) => string;
  /** The command of a publish: SPUBLISH for sharded pub/sub (Redis Cluster). @default 'PUBLISH' */
  publishCommand?: 'PUBLISH' | 'SPUBLISH';
  /** Signs the payload of each mergeable publish (see TransportOptions.signPayload). */
  signPayload?: (channel: string, payload: string) => string;
}
