import { startDashboard } from '../index.js';
import type { Command } from './command.js';
import { connect, resolveUrl } from './connect.js';
import { EXIT, UsageError } from './usage.js';

/** Addresses that listen on every interface. */
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary: 'serve a live web dashboard of the namespace, and its /metrics',
  help: `usage: redis-actors dashboard [--port 8737] [--host 127.0.0.1] [--interval-ms 1000]

Serves a web page, updated live, of the namespace: hosts, processes and
actors (with supervisors and their children as a tree), mailboxes, message
rates by type, restarts, topics, and the pi computation when one runs. Open
the URL it prints. /metrics serves the namespace's metrics, summed over its
processes, in the Prometheus text format.

Every --interval-ms it asks each process of the namespace for its report
(one small ask per process) and lists the registry; it watches topics with a
pattern subscription to <namespace>:topic:* (so it counts as a receiver of
topics, never of mailboxes: an ask to nobody still fails at once).

The dashboard has no login: it listens on 127.0.0.1 and answers only requests
addressed to loopback. --host <address> listens elsewhere; every interface
(0.0.0.0 or ::) only when given explicitly, and then anyone who reaches the
port sees the namespace. Ctrl-C stops it.`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'interval-ms': { type: 'string' },
  },
  async run({ values, positionals }, global) {
    if (positionals.length > 0)
      throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
    const port = integerOption('--port', values.port, 8737, 0, 65535);
    const intervalMs = integerOption('--interval-ms', values['interval-ms'], 1000, 200, 60_000);
    const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
    const url = resolveUrl(global);
    const system = await connect(global);
    let dashboard;
    try {
      dashboard = await startDashboard(system, { url, port, host, intervalMs });
    } catch (error) {
      await system.stop();
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new UsageError(`port ${port} on ${host} is in use: choose another with --port`);
      throw error;
    }
    process.stdout.write(`dashboard of namespace "${system.namespace}" on ${dashboard.url}\n`);
    if (WILDCARDS.has(host))
      process.stderr.write(
        `listening on every interface (--host ${host}): the dashboard has no login, so anyone who reaches this port sees the namespace\n`,
      );
    process.stderr.write('Ctrl-C to stop\n');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await dashboard.close();
    await system.stop();
    return EXIT.ok;
  },
};

function integerOption(
  flag: string,
  value: string | boolean | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || parsed < min || parsed > max)
    throw new UsageError(
      `${flag} must be an integer from ${min} to ${max}, got "${String(value)}"`,
    );
  return parsed;
}
