/**
 * A durable mailbox lasts as long as its Redis keeps data: with
 * `--appendonly yes --appendfsync always`, messages stored before a kill -9 of
 * the redis-server are all handled after it restarts. (The private broker and
 * the test Redis keep nothing across a restart: docs/RELIABILITY.md says so.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, defineActor, startRedisServer } from '../../src/index.js';
import { captureLogger, deferred, uniqueNamespace } from '../helpers.js';

const PERSISTENT = ['--appendonly', 'yes', '--appendfsync', 'always'];

describe('a durable mailbox on a Redis with an append-only file', () => {
  it('loses nothing across a kill -9 and restart of the redis-server', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-durable-aof-'));
    let server = await startRedisServer({ dir, extraArgs: PERSISTENT });
    onTestFinished(async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const namespace = uniqueNamespace();
    const start = async () => {
      const system = await ActorSystem.start({
        url: server.url,
        namespace,
        logger: captureLogger(),
      });
      onTestFinished(() => system.stop());
      return system;
    };
    const host = await start();
    const sender = await start();
    const seen = new Set<number>();
    const all = deferred();
    const jobs = defineActor({
      handlers: {
        job: (n: number) => {
          seen.add(n);
          if (seen.size === 100) all.resolve();
        },
      },
    });
    await host.stopActor(await host.spawn(jobs, { name: 'jobs', mailbox: { durable: true } }));
    for (let n = 0; n < 100; n++) await sender.tell('jobs', 'job', n);

    const restored = new Promise<void>((resolve) =>
      host.once('connection-restored', () => {
        resolve();
      }),
    );
    process.kill(server.pid, 'SIGKILL');
    await server.exited;
    server = await startRedisServer({ dir, extraArgs: PERSISTENT });
    await restored;
    await host.spawn(jobs, { name: 'jobs', mailbox: { durable: true } });
    await all.promise;
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, n) => n));
  });
});
