/**
 * Three "hosts" on one machine: network namespaces h1, h2, h3, each on a
 * bridge of its own in the root namespace (a private /24 of 10.231.0.0/16 no
 * route of the machine uses), and a redis-server of the test's own bound to
 * the bridge's address (with a password), reachable from all three. Processes run in a host
 * with its own hostname (`unshare --uts`), so their addresses are
 * `h1-<pid>`, `h2-<pid>`, … as on real machines. Names are unique per run
 * (`ra-<6 random characters>-…`); everything is removed by `stop()`, which
 * also runs on a failed start.
 *
 * Needs root and `ip netns`; {@link unavailable} says why not, for a skip.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningRedisServer, startRedisServer } from '../../src/index.js';
import { type Child, freePort, runCommand } from '../helpers.js';

export type HostName = 'h1' | 'h2' | 'h3';
export const HOST_NAMES: readonly HostName[] = ['h1', 'h2', 'h3'];

export interface Host {
  name: HostName;
  /** The network namespace. */
  netns: string;
  /** Its address on the bridge. */
  ip: string;
  /** The root-namespace end of its link (a veth on the bridge): down means unplugged. */
  link: string;
}

export interface Hosts {
  hosts: Record<HostName, Host>;
  /** The test Redis, as every host (and the root namespace) reaches it. */
  redisUrl: string;
  /** Runs `command` in `host`, with REDIS_URL set to the test Redis; see runCommand. */
  run(host: HostName, command: string, args: string[], env?: NodeJS.ProcessEnv): Child;
  /** Takes `host`'s link down (as if unplugged) or back up. */
  setLink(host: HostName, state: 'up' | 'down'): void;
  /** The host whose namespace `pid` runs in, and the hostname it sees. */
  whereIs(pid: number): { netns: string | undefined; hostname: string | undefined };
  stop(): Promise<void>;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryQuietly(action: () => unknown): void {
  try {
    action();
  } catch {
    // Gone already, or never made.
  }
}

function randomPrefix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = Array.from({ length: 6 }, () => Math.floor(Math.random() * alphabet.length));
  return `ra-${bytes.map((index) => alphabet[index]).join('')}`;
}

/** Why these tests cannot run here, or undefined when they can. */
export function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'not root: network namespaces need root';
  const probe = `${randomPrefix()}-probe`;
  try {
    ip('netns', 'add', probe);
  } catch (error) {
    return `\`ip netns add\` failed: ${(error as Error).message.split('\n')[0] ?? ''}`;
  } finally {
    tryQuietly(() => ip('netns', 'del', probe));
  }
  for (const tool of ['unshare', 'nsenter', 'redis-server']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not on PATH`;
    }
  }
  return undefined;
}

/** A /24 in 10.231.0.0/16 that no address or route of the machine uses. */
function freeSubnet(): string {
  const used = ip('-4', 'route', 'show', 'table', 'all') + ip('-4', 'addr', 'show');
  const start = Math.floor(Math.random() * 256);
  for (let offset = 0; offset < 256; offset++) {
    const subnet = `10.231.${(start + offset) % 256}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free /24 in 10.231.0.0/16');
}

export async function startHosts(): Promise<Hosts> {
  const prefix = randomPrefix();
  const subnet = freeSubnet();
  const bridge = `${prefix}-br`;
  const bridgeIp = `${subnet}.1`;
  const password = randomBytes(12).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-multihost-'));
  const hosts = Object.fromEntries(
    HOST_NAMES.map((name, index) => [
      name,
      {
        name,
        netns: `${prefix}-${name}`,
        ip: `${subnet}.${11 + index}`,
        link: `${prefix}-${name}`,
      },
    ]),
  ) as Record<HostName, Host>;
  const children: Child[] = [];
  let redis: RunningRedisServer | undefined;

  const stop = async (): Promise<void> => {
    for (const child of children) child.signalGroup('SIGKILL');
    // A process that left the group could keep a pipe open: 'close' is not waited for forever.
    const settled = Promise.all(children.map((child) => child.exited));
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await redis?.stop();
    for (const host of Object.values(hosts)) {
      tryQuietly(() => ip('netns', 'del', host.netns));
      tryQuietly(() => ip('link', 'del', host.link));
    }
    tryQuietly(() => ip('link', 'del', bridge));
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${bridgeIp}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (const host of Object.values(hosts)) {
      const peer = `${prefix}-p${host.name.slice(1)}`;
      ip('netns', 'add', host.netns);
      ip('link', 'add', host.link, 'type', 'veth', 'peer', 'name', peer);
      ip('link', 'set', peer, 'netns', host.netns);
      ip('link', 'set', host.link, 'master', bridge);
      ip('link', 'set', host.link, 'up');
      ip('-n', host.netns, 'link', 'set', peer, 'name', 'eth0');
      ip('-n', host.netns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0');
      ip('-n', host.netns, 'link', 'set', 'eth0', 'up');
      ip('-n', host.netns, 'link', 'set', 'lo', 'up');
    }
    const port = await freePort();
    redis = await startRedisServer({
      dir,
      port,
      // A password, as on a real network: without one, Redis's protected mode refuses every
      // client that is not on loopback.
      extraArgs: ['--bind', `127.0.0.1 ${bridgeIp}`, '--requirepass', password],
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const redisUrl = `redis://:${password}@${bridgeIp}:${(redis.tcpUrl ?? '').split(':').pop()}`;

  return {
    hosts,
    redisUrl,
    run(host, command, args, env = {}) {
      const child = runCommand(
        'ip',
        [
          'netns',
          'exec',
          hosts[host].netns,
          'unshare',
          '--uts',
          'sh',
          '-c',
          'hostname "$0" && exec "$@"',
          host,
          command,
          ...args,
        ],
        { REDIS_URL: redisUrl, ...env },
      );
      children.push(child);
      return child;
    },
    setLink(host, state) {
      ip('link', 'set', hosts[host].link, state);
    },
    whereIs(pid) {
      const read = (command: string, args: string[]): string | undefined => {
        try {
          return execFileSync(command, args, { encoding: 'utf8', stdio: 'pipe' }).trim();
        } catch {
          return undefined;
        }
      };
      return {
        netns: read('ip', ['netns', 'identify', String(pid)]),
        hostname: read('nsenter', ['--target', String(pid), '--uts', 'hostname']),
      };
    },
    stop,
  };
}
