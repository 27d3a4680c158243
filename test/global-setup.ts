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

/** The CLI tests run the built package (as `npx redis-actors` does): it must be current. */
function assertBuildIsCurrent(): void {
  const root = path.resolve(import.meta.dirname, '..');
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...fs.readdirSync(dir, { withFileTypes: true }).map((entry) => {
        const full = path.join(dir, entry.name);
        return entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs;
      }),
    );
  const built = path.join(root, 'dist', 'src', 'index.js');
  if (!fs.existsSync(built) || newest(path.join(root, 'src')) > fs.statSync(built).mtimeMs) {
    throw new Error(
      'dist/ is missing or older than src/: run `npm run build` (npm install does it too)',
    );
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  assertBuildIsCurrent();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-actors-test-'));
  const broker = await findBroker({ runtimeDir: dir, useEnv: false, reuse: false });
  project.provide('redisUrl', broker.url);
  return async () => {
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
