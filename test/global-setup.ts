/**
 * Starts the Redis every test uses: a private redis-server on a unix socket in
 * a fresh temporary directory (or a container when only Docker is available),
 * never the machine's shared one and never REDIS_URL. Each test then works in
 * its own namespace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { findBroker } from '../src/broker/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-actors-test-'));
  const broker = await findBroker({ runtimeDir: dir, useEnv: false, reuse: false });
  project.provide('redisUrl', broker.url);
  return async () => {
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
