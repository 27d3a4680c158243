/**
 * One command on every node of a cluster, masters and replicas: for what each
 * node keeps for itself, such as ACL users (`ACL SETUSER` on one node is not
 * propagated to the others).
 */
import { CommandConnection } from '../command-connection.js';
import { DEFAULT_CONNECTION_TUNING } from '../connection-tuning.js';
import { redactUrl } from '../redis-url.js';
import type { CommandArgument, RespValue } from '../resp.js';
import type { TlsOptions } from '../redis-url.js';
import { nodeKey, parseClusterUrl } from './cluster-url.js';
import { type NodeConnectionOptions, connectionOptions } from './cluster-node.js';

/** Runs `args` on every node the cluster's slot map names; resolves with each node's reply. */
export async function commandOnEveryNode(
  url: string,
  args: readonly CommandArgument[],
  tls: TlsOptions = {},
): Promise<{ node: string; reply: RespValue }[]> {
  const seeds = parseClusterUrl(url);
  const options: NodeConnectionOptions = {
    connection: { ...DEFAULT_CONNECTION_TUNING, tls, displayUrl: redactUrl(url) },
    publishing: {},
    seed: seeds[0] as (typeof seeds)[number],
    clientName: 'redis-actors:admin',
  };
  const once = async (
    address: { host: string; port: number },
    command: readonly CommandArgument[],
  ) => {
    const connection = new CommandConnection(connectionOptions(options, address, 'admin'));
    await connection.connect();
    try {
      return await connection.call(command);
    } finally {
      await connection.close();
    }
  };
  let nodes: { host: string; port: number }[] | undefined;
  let failure: unknown;
  for (const seed of seeds) {
    try {
      nodes = nodesOf(String(await once(seed, ['CLUSTER', 'NODES'])), seed.host);
      break;
    } catch (error) {
      failure = error;
    }
  }
  if (nodes === undefined) throw failure;
  return Promise.all(
    nodes.map(async (node) => ({
      node: nodeKey(node.host, node.port),
      reply: await once(node, args),
    })),
  );
}

/**
 * The reachable nodes of a `CLUSTER NODES` reply, replicas too (CLUSTER SLOTS
 * leaves out replicas the answering node does not count yet): each line is
 * `<id> <host>:<port>@<bus port>[,<hostname>] <flags> …`.
 */
function nodesOf(reply: string, fallbackHost: string): { host: string; port: number }[] {
  const nodes: { host: string; port: number }[] = [];
  for (const line of reply.split('\n')) {
    const [, address, flags] = line.split(' ');
    if (address === undefined || flags === undefined) continue;
    if (/(^|,)(fail|noaddr|handshake)(,|$)/.test(flags)) continue;
    const match = /^(.*):(\d+)@/.exec(address);
    if (match === null) continue;
    const host = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
    nodes.push({ host: host === '' ? fallbackHost : host, port: Number(match[2]) });
  }
  return nodes;
}
