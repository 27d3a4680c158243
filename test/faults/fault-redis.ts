/**
 * A redis-server of the test's own that the test may kill, restart, freeze
 * and thaw: the faults of the fault tests. It listens on a unix socket in a
 * fresh directory, so that a restart comes back at the same URL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { onTestFinished } from 'vitest';
import { type RunningRedisServer, startRedisServer } from '../../src/index.js';

export interface FaultRedis {
  /** `unix://` URL, the same across restarts. */
  readonly url: string;
  readonly socketPath: string;
  /** Pid of the running server (changes with each restart). */
  readonly pid: number;
  /** kill -9, resolved once the process is gone. */
  kill(): Promise<void>;
  /** Starts a fresh server on the same socket (after kill). */
  restart(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets open and answers nothing (half-open). */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** An ioredis client for admin commands (CLIENT KILL, ACL …); closed when the test ends. */
  admin(): Redis;
}

export async function startFaultRedis(): Promise<FaultRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-fault-redis-'));
  let server: RunningRedisServer = await startRedisServer({ dir });
  let frozen = false;
  const admins: Redis[] = [];
  onTestFinished(async () => {
    for (const admin of admins) admin.disconnect();
    if (frozen) process.kill(server.pid, 'SIGCONT');
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: server.url,
    socketPath: server.socketPath,
    get pid() {
      return server.pid;
    },
    async kill() {
      process.kill(server.pid, 'SIGKILL');
      await server.exited;
    },
    async restart() {
      server = await startRedisServer({ dir });
    },
    freeze() {
      process.kill(server.pid, 'SIGSTOP');
      frozen = true;
    },
    thaw() {
      process.kill(server.pid, 'SIGCONT');
      frozen = false;
    },
    admin() {
      // No reconnecting or queueing: an admin command to a dead server should fail, not wait.
      const client = new Redis({
        path: server.socketPath,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      admins.push(client);
      return client;
    },
  };
}
