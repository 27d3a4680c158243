import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BrokerNotFoundError } from '../errors.js';
import { ensurePrivateDir } from './runtime-dir.js';

/**
 * How much a subscriber may fall behind before Redis disconnects it
 * (`client-output-buffer-limit pubsub <hard> <soft> <seconds>`). Redis's default,
 * 32mb 8mb 60, cuts a mailbox that a burst of ordinary messages (each at most
 * claimCheckBytes, 1 MiB) outpaces for a moment; these limits absorb such a
 * burst. A stranger's single PUBLISH above the hard limit still cuts every
 * subscriber of that channel; the mailbox probe resubscribes it (see
 * docs/RELIABILITY.md, "Hostile input").
 */
export const PUBSUB_BUFFER_LIMIT = {
  hardBytes: 256 * 1024 * 1024,
  softBytes: 64 * 1024 * 1024,
  softSeconds: 60,
};

/** A redis-server process started by this process, which must stop it. */
export interface RunningRedisServer {
  /** `unix://` URL of its socket. */
  url: string;
  socketPath: string;
  /** `redis://127.0.0.1:<port>` when a TCP port was asked for. */
  tcpUrl: string | undefined;
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /** Resolves when the process has exited, for whatever reason. */
  exited: Promise<void>;
}

export interface StartRedisServerOptions {
  /** Directory for the socket (and nothing else: persistence is off). */
  dir: string;
  /** TCP port to listen on too, on 127.0.0.1; 0 (the default) for none. */
  port?: number;
  /** Extra `--option value` arguments for redis-server. */
  extraArgs?: string[];
  /** @default 10000 */
  readyTimeoutMs?: number;
  /** @default 'redis-server' */
  command?: string;
}

/**
 * Starts redis-server on a unix socket (mode 700, no persistence) and resolves
 * once it accepts connections. Rejects with BrokerNotFoundError when the binary
 * is missing or the server exits first (its output is in the message).
 */
export function startRedisServer(options: StartRedisServerOptions): Promise<RunningRedisServer> {
  ensurePrivateDir(options.dir);
  const socketPath = path.join(options.dir, 'redis.sock');
  fs.rmSync(socketPath, { force: true });
  const port = options.port ?? 0;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--unixsocket',
    socketPath,
    '--unixsocketperm',
    '700',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    options.dir,
    '--daemonize',
    'no',
    '--client-output-buffer-limit',
    `pubsub ${PUBSUB_BUFFER_LIMIT.hardBytes} ${PUBSUB_BUFFER_LIMIT.softBytes} ${PUBSUB_BUFFER_LIMIT.softSeconds}`,
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(options.command ?? 'redis-server', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C at the terminal must not take Redis away from
    // the application's clean shutdown; whoever started it stops it.
    detached: true,
  });
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let output = '';
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  return new Promise((resolve, reject) => {
    const fail = (detail: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new BrokerNotFoundError(
          `${detail}${output === '' ? '' : `; its output:\n${output.slice(-2000)}`}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      fail(`redis-server did not report ready within ${readyTimeoutMs} ms`);
    }, readyTimeoutMs);
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!/ready to accept connections/i.test(output)) return;
      clearTimeout(timer);
      child.stdout.off('data', onOutput);
      // Keep draining so a chatty server never blocks on a full pipe.
      child.stdout.resume();
      child.off('exit', onEarlyExit);
      child.off('error', onSpawnError);
      resolve({
        url: `unix://${socketPath}`,
        socketPath,
        tcpUrl: port === 0 ? undefined : `redis://127.0.0.1:${port}`,
        pid: child.pid ?? -1,
        stop: () => stopProcess(child),
        exited,
      });
    };
    const onEarlyExit = (code: number | null, signal: string | null): void => {
      fail(`redis-server exited before it was ready (code ${code}, signal ${signal})`);
    };
    const onSpawnError = (error: NodeJS.ErrnoException): void => {
      fail(
        error.code === 'ENOENT'
          ? 'redis-server is not on PATH'
          : `cannot run redis-server: ${error.message}`,
      );
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', onEarlyExit);
    child.once('error', onSpawnError);
  });
}

function stopProcess(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
