/**
 * Broker discovery trusts only what the user owns: a runtime directory, a
 * `broker.url` or a socket planted by another local user (or loosened, or a
 * symbolic link) is refused with BrokerNotFoundError naming the path and why,
 * and the planted broker receives nothing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BrokerNotFoundError, discoverBrokerUrl, startRedisServer } from '../../src/index.js';
import { repoRoot } from '../helpers.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-discovery-'));
  onTestFinished(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A runtime directory with `broker.url` saying `url`, made as this user with mode 700/600. */
function runtimeDir(url = 'redis://127.0.0.1:1'): { dir: string; file: string } {
  const dir = path.join(tempDir(), 'redis-actors');
  fs.mkdirSync(dir, { mode: 0o700 });
  const file = path.join(dir, 'broker.url');
  fs.writeFileSync(file, url, { mode: 0o600 });
  return { dir, file };
}

function refusal(dir: string): Error {
  try {
    discoverBrokerUrl(dir);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`discovery accepted ${dir}`);
}

describe('broker discovery', () => {
  it('uses a runtime directory that is the user’s own', () => {
    const { dir } = runtimeDir('redis://127.0.0.1:1');
    expect(discoverBrokerUrl(dir)).toBe('redis://127.0.0.1:1');
  });

  it('refuses a directory or broker.url open to others, or a symbolic link', () => {
    const open = runtimeDir();
    fs.chmodSync(open.dir, 0o777);
    const openError = refusal(open.dir);
    expect(openError).toBeInstanceOf(BrokerNotFoundError);
    expect(openError.message).toContain(open.dir);
    expect(openError.message).toMatch(/accessible to other users.*XDG_RUNTIME_DIR.*REDIS_URL/);

    const writable = runtimeDir();
    fs.chmodSync(writable.file, 0o666);
    expect(refusal(writable.dir).message).toContain(writable.file);

    const real = runtimeDir();
    const link = path.join(tempDir(), 'redis-actors');
    fs.symlinkSync(real.dir, link);
    expect(refusal(link).message).toContain(`${link} is a symbolic link`);

    const fileLink = runtimeDir();
    fs.rmSync(fileLink.file);
    fs.symlinkSync(writable.file, fileLink.file);
    expect(refusal(fileLink.dir).message).toContain('is a symbolic link');
  });

  it.skipIf(!isRoot)(
    'a directory planted by another user: refused, and its broker hears nothing (needs root to chown)',
    async () => {
      const attacker = await startRedisServer({ dir: tempDir() });
      onTestFinished(() => attacker.stop());
      const tmp = tempDir();
      const planted = path.join(tmp, `redis-actors-${process.getuid?.() ?? 0}`);
      fs.mkdirSync(planted, { mode: 0o700 });
      fs.writeFileSync(path.join(planted, 'broker.url'), attacker.url, { mode: 0o600 });
      fs.chownSync(path.join(planted, 'broker.url'), NOBODY, NOBODY);
      fs.chownSync(planted, NOBODY, NOBODY);
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
      delete env.REDIS_URL;
      delete env.XDG_RUNTIME_DIR;
      const victim = spawnSync(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', 'test/fixtures/find-broker.ts'],
        { cwd: repoRoot, env, encoding: 'utf8', input: '', timeout: 20_000 },
      );
      expect(victim.stdout).toContain('ERROR BrokerNotFoundError');
      expect(victim.stdout).toContain(`${planted} belongs to uid ${NOBODY}`);
      const { Redis } = await import('ioredis');
      expect(attacker.url.startsWith('unix://')).toBe(true);
      const probe = new Redis({ path: attacker.url.slice('unix://'.length) });
      onTestFinished(() => {
        probe.disconnect();
      });
      // Only this probe's own INFO has reached the planted server.
      const stats = await probe.info('commandstats');
      const calls = [...stats.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      expect(calls).toBeLessThanOrEqual(1);
      expect(stats).not.toMatch(/cmdstat_(publish|subscribe|set|eval)/);
    },
  );
});
