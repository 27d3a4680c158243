import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { dockerAvailable } from '../src/broker/container.js';
import { findBroker, startPrivateBroker } from '../src/index.js';
import { pingUnixSocket } from '../src/broker/ping.js';
import { runTs } from './helpers.js';

function tempRuntime(): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-broker-'));
  onTestFinished(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });
  return base;
}

/** Environment of a process that has no REDIS_URL and keeps its broker under `base`. */
function isolated(base: string): NodeJS.ProcessEnv {
  return { REDIS_URL: '', XDG_RUNTIME_DIR: base };
}

describe('finding a Redis', () => {
  it('starts a private redis-server on a mode-700 unix socket and publishes its URL for other processes', async () => {
    const base = tempRuntime();
    const dir = path.join(base, 'redis-actors');
    const broker = await startPrivateBroker(dir);
    onTestFinished(() => broker.stop());
    expect(broker).toMatchObject({ source: 'private', owned: true });
    const socketPath = broker.url.slice('unix://'.length);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(socketPath).isSocket()).toBe(true);
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(dir, 'broker.url'), 'utf8').trim()).toBe(broker.url);

    const found = await findBroker({ runtimeDir: dir, useEnv: false });
    expect(found).toMatchObject({ source: 'private', owned: false, url: broker.url });

    // Another process, with no URL at all, finds the same broker through the well-known file.
    const other = runTs('test/fixtures/find-broker.ts', [], isolated(base));
    expect(await other.waitForLine(/^BROKER /)).toBe(`BROKER private false ${broker.url}`);
    expect(await other.waitForLine(/^ASKED /)).toMatch(/^ASKED \S+-\d+$/);
    other.closeStdin();
    await other.waitForLine(/^BROKER STOPPED$/);
    expect(await pingUnixSocket(socketPath)).toBe(true);

    await broker.stop();
    expect(fs.existsSync(path.join(dir, 'broker.url'))).toBe(false);
    expect(await pingUnixSocket(socketPath)).toBe(false);
  });

  it('lets two processes racing to start a broker share one, started once', async () => {
    const base = tempRuntime();
    const first = runTs('test/fixtures/find-broker.ts', [], isolated(base));
    const second = runTs('test/fixtures/find-broker.ts', [], isolated(base));
    const lines = await Promise.all([
      first.waitForLine(/^BROKER /),
      second.waitForLine(/^BROKER /),
    ]);
    const urls = new Set(lines.map((line) => line.split(' ')[3]));
    expect(urls.size).toBe(1);
    expect(lines.filter((line) => line.startsWith('BROKER private true'))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('BROKER private false'))).toHaveLength(1);
    await Promise.all([first.waitForLine(/^ASKED /), second.waitForLine(/^ASKED /)]);
    const owner = lines[0].includes(' true ') ? first : second;
    const guest = owner === first ? second : first;
    guest.closeStdin();
    await guest.waitForLine(/^BROKER STOPPED$/);
    owner.closeStdin();
    await owner.waitForLine(/^BROKER STOPPED$/);
    expect(await pingUnixSocket([...urls][0]?.slice('unix://'.length) ?? '')).toBe(false);
  });

  it('uses REDIS_URL first when it is set', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://example.invalid:6379';
    try {
      expect(await findBroker({ runtimeDir: tempRuntime() })).toMatchObject({
        url: 'redis://example.invalid:6379',
        source: 'env',
        owned: false,
      });
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });

  it('names the three ways to get a Redis when there is none', async ({ skip }) => {
    if (await dockerAvailable()) skip('a Docker engine answers here, so a container would be used');
    const base = tempRuntime();
    // A PATH with node and nothing else: no redis-server to start.
    const bin = path.join(base, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const child = runTs('test/fixtures/find-broker.ts', [], { ...isolated(base), PATH: bin });
    const line = await child.waitForLine(/^ERROR /);
    expect(line).toMatch(/^ERROR BrokerNotFoundError: no Redis available/);
    expect(line).toContain('REDIS_URL');
    expect(line).toContain('redis-server is not on PATH');
    expect(line).toContain('apt-get install redis-server');
    expect(line).toContain('Docker');
    expect((await child.exited).code).toBe(2);
  });
});
