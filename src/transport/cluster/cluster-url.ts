/**
 * Cluster URLs: `redis+cluster://[user:pass@]host:port,host:port,…` (and
 * `rediss+cluster://` for TLS). Each host is a seed: the transport asks the
 * first one that answers for the slot map and learns every node from it.
 */
import { InvalidOptionError } from '../../errors.js';
import { type RedisEndpoint, parseRedisUrl, redactUrl } from '../redis-url.js';

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//i;

/** Whether `url` asks for a Redis Cluster. */
export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/** A TCP endpoint: cluster nodes are reached by host and port. */
export type TcpEndpoint = Extract<RedisEndpoint, { kind: 'tcp' }>;

/** The seeds of a cluster URL, each with the URL's credentials and TLS. */
export function parseClusterUrl(url: string): TcpEndpoint[] {
  const scheme = CLUSTER_SCHEME.exec(url);
  if (scheme === null) throw invalidClusterUrl(url, 'it does not start with redis+cluster://');
  const rest = url.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const suffix = end === -1 ? '' : rest.slice(end);
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? '' : `${authority.slice(0, at)}@`;
  const hosts = (at === -1 ? authority : authority.slice(at + 1)).split(',');
  if (hosts.some((host) => host === '')) throw invalidClusterUrl(url, 'a host is empty');
  return hosts.map((host) => {
    const endpoint = parseRedisUrl(
      `${(scheme[1] as string).toLowerCase()}://${userinfo}${host}${suffix}`,
    );
    if (endpoint.kind !== 'tcp') throw invalidClusterUrl(url, 'cluster nodes are host:port');
    if (endpoint.db !== 0) throw invalidClusterUrl(url, 'a cluster has database 0 only');
    return endpoint;
  });
}

/** `host:port`, the name of a cluster node in slot maps and redirects. */
export function nodeKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function invalidClusterUrl(url: string, why: string): InvalidOptionError {
  return new InvalidOptionError(
    'Redis URL',
    `cannot use "${redactUrl(url)}": ${why}. Write redis+cluster://host:port,host:port ` +
      `(or rediss+cluster:// for TLS), with user:password@ before the first host if needed.`,
  );
}
