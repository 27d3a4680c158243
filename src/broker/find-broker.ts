import fs from 'node:fs';
import path from 'node:path';
import { BrokerNotFoundError } from '../errors.js';
import { dockerAvailable, startRedisContainer } from './container.js';
import { discoverBrokerUrl } from './discovery.js';
import { pingUnixSocket } from './ping.js';
import { startRedisServer } from './redis-server.js';
import { brokerUrlFile, defaultRuntimeDir, ensurePrivateDir } from './runtime-dir.js';

/** A Redis to talk to, and whether this process must stop it. */
export interface Broker {
  url: string;
  /** `env`: REDIS_URL; `private`: a redis-server on a unix socket; `container`: Docker. */
  source: 'env' | 'private' | 'container';
  /** True when this process started it; `stop()` then stops it. */
  owned: boolean;
  /** Stops the broker if this process started it; otherwise does nothing. */
  stop(): Promise<void>;
}

export interface FindBrokerOptions {
  /** Directory of the private broker. @default defaultRuntimeDir() */
  runtimeDir?: string;
  /** Honour REDIS_URL. @default true */
  useEnv?: boolean;
  /** Reuse a private broker another process started. @default true */
  reuse?: boolean;
}

/**
 * Finds a Redis, in this order: `REDIS_URL`; a private broker already running
 * for this user; a new private `redis-server` from PATH on a unix socket in the
 * runtime directory (its URL written to `broker.url` there for other processes);
 * a `redis:7` container when a Docker engine answers. Otherwise throws
 * {@link BrokerNotFoundError} naming the three ways to get a Redis.
 */
export async function findBroker(options: FindBrokerOptions = {}): Promise<Broker> {
  const envUrl = process.env.REDIS_URL;
  if ((options.useEnv ?? true) && envUrl !== undefined && envUrl !== '') {
    return { url: envUrl, source: 'env', owned: false, stop: () => Promise.resolve() };
  }
  const dir = options.runtimeDir ?? defaultRuntimeDir();
  if (options.reuse ?? true) {
    const running = await runningPrivateBroker(dir);
    if (running !== undefined) return running;
  }
  let serverProblem: string;
  try {
    return await startPrivateBroker(dir);
  } catch (error) {
    // A planted runtime directory is not worked around: the user must hear of it.
    if (error instanceof BrokerNotFoundError && error.advice !== undefined) throw error;
    serverProblem = (error as Error).message;
  }
  if (await dockerAvailable()) {
    const container = await startRedisContainer();
    return { url: container.url, source: 'container', owned: true, stop: () => container.stop() };
  }
  throw new BrokerNotFoundError(`REDIS_URL is not set; ${serverProblem}; no Docker engine answers`);
}

async function runningPrivateBroker(dir: string): Promise<Broker | undefined> {
  const url = discoverBrokerUrl(dir);
  if (url === undefined || !(await pingUnixSocket(url.slice('unix://'.length)))) return undefined;
  return { url, source: 'private', owned: false, stop: () => Promise.resolve() };
}

/**
 * Starts a private redis-server in `dir` and publishes its URL in `broker.url`.
 * Two processes racing here are serialised by an exclusive lock file; the loser
 * uses the winner's server.
 */
export async function startPrivateBroker(dir: string = defaultRuntimeDir()): Promise<Broker> {
  ensurePrivateDir(dir);
  const lockFile = path.join(dir, 'broker.lock');
  if (!acquireLock(lockFile)) {
    const other = await waitForOtherStarter(dir, lockFile);
    if (other !== undefined) return other;
    if (!acquireLock(lockFile)) throw new BrokerNotFoundError(`another process holds ${lockFile}`);
  }
  try {
    // The previous lock holder may have finished starting one just now.
    const running = await runningPrivateBroker(dir);
    if (running !== undefined) return running;
    const server = await startRedisServer({ dir });
    const urlFile = brokerUrlFile(dir);
    fs.writeFileSync(urlFile, `${server.url}\n`, { mode: 0o600 });
    return {
      url: server.url,
      source: 'private',
      owned: true,
      stop: async () => {
        try {
          if (discoverBrokerUrl(dir) === server.url) fs.rmSync(urlFile, { force: true });
        } finally {
          // Stopped even when the directory was tampered with meanwhile.
          await server.stop();
        }
      },
    };
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

/** Creates the lock file exclusively; a lock left by a dead process is taken over. */
function acquireLock(lockFile: string): boolean {
  if (createExclusive(lockFile)) return true;
  let holder = NaN;
  try {
    holder = Number(fs.readFileSync(lockFile, 'utf8'));
  } catch {
    // Released meanwhile: try once more below.
  }
  if (processAlive(holder)) return false;
  fs.rmSync(lockFile, { force: true });
  return createExclusive(lockFile);
}

function createExclusive(lockFile: string): boolean {
  try {
    fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx', mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}

/** Waits (up to 10 s) for the lock holder to finish starting its broker. */
async function waitForOtherStarter(dir: string, lockFile: string): Promise<Broker | undefined> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!fs.existsSync(lockFile)) return runningPrivateBroker(dir);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
