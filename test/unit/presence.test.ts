/**
 * Presence over a fake transport that records every command: what a refresh
 * sends (one script, whatever the number of actors and names), what it
 * renews twice a day, and that what a retired actor leaves behind is retried
 * every interval until Redis takes it. The real scripts run against Redis in
 * test/presence-cost.test.ts and test/security/names.test.ts.
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { Presence, Registry } from '../../src/registry/index.js';
import { KEPT_MS } from '../../src/registry/name-claims.js';
import type { CommandArgument, RespValue, Transport } from '../../src/transport/index.js';
import { Names } from '../../src/wire/index.js';

const INTERVAL_MS = 40;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Answers like Redis would for a process that holds everything it claims. */
class RecordingRedis {
  sent: string[][] = [];
  failing = false;
  readonly transport = {
    command: (args: readonly CommandArgument[]) => this.command(args),
  } as unknown as Transport;

  private command(args: readonly CommandArgument[]): Promise<RespValue> {
    const text = args.map((arg) => String(arg));
    this.sent.push(text);
    if (this.failing) return Promise.reject(new Error('Redis is down'));
    // EVALSHA <sha> <number of keys>: the refresh script has one key and says "held" (1);
    // the claim script has two and says "claimed" (nil).
    if (text[0] === 'EVALSHA') return Promise.resolve(text[2] === '1' ? 1 : null);
    return Promise.resolve(1);
  }

  /** Clears what was sent, waits `intervals` presence intervals, returns what was sent meanwhile. */
  async during(intervals: number): Promise<string[][]> {
    this.sent = [];
    await sleep(intervals * INTERVAL_MS + INTERVAL_MS / 2);
    const sent = this.sent;
    this.sent = [];
    return sent;
  }
}

const names = new Names('unit');
const isRefresh = (command: string[]) =>
  command[0] === 'EVALSHA' && command[2] === '1' && command[3] === 'unit:name:{p}';

function presenceOn(redis: RecordingRedis): { presence: Presence; failures: unknown[] } {
  const { transport } = redis;
  const registry = new Registry({
    transport,
    names,
    ttlMs: 1000,
    token: 'p|nonce0000000',
    auth: undefined,
  });
  const failures: unknown[] = [];
  const presence = new Presence({
    transport,
    names,
    registry,
    address: 'p',
    nonce: 'nonce0000000',
    ttlMs: 1000,
    intervalMs: INTERVAL_MS,
    onRefreshFailed: (error) => failures.push(error),
  });
  onTestFinished(() => {
    presence.stop();
  });
  return { presence, failures };
}

/** `count` named actors of process `p`, claimed and announced. */
async function spawnNamed(presence: Presence, count: number): Promise<string[]> {
  const addresses = Array.from({ length: count }, (_, i) => `p/a${i}`);
  for (const [i, address] of addresses.entries()) await presence.claim(`a${i}`, address);
  await presence.announce(
    addresses.map((address, i) => ({
      name: `a${i}`,
      address,
      host: 'h',
      pid: 1,
      startedAt: 0,
    })),
  );
  return addresses;
}

describe('presence refresh', () => {
  it('sends one script per interval, for 1,000 named actors as for none', async () => {
    const redis = new RecordingRedis();
    const { presence, failures } = presenceOn(redis);
    presence.keepAlive();
    const idle = await redis.during(4);
    await spawnNamed(presence, 1000);
    const busy = await redis.during(4);
    for (const sent of [idle, busy]) {
      expect(sent.every(isRefresh), JSON.stringify(sent.slice(0, 5))).toBe(true);
      expect(sent.length).toBeGreaterThanOrEqual(2);
      expect(sent.length).toBeLessThanOrEqual(6);
    }
    expect(failures).toEqual([]);
  });

  it('renews the name claims, the entries and the index once half of KEPT_MS has passed', async () => {
    const redis = new RecordingRedis();
    const { presence } = presenceOn(redis);
    await spawnNamed(presence, 3);
    expect(await redis.during(2)).toSatisfy((sent: string[][]) => sent.every(isRefresh));
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    vi.setSystemTime(Date.now() + KEPT_MS / 2 + 1000);
    const renewed = (await redis.during(3)).filter((command) => !isRefresh(command));
    const kept = String(KEPT_MS);
    expect(renewed).toEqual(
      expect.arrayContaining([
        ['PEXPIRE', 'unit:name:{a0}', kept],
        ['PEXPIRE', 'unit:name:{a1}', kept],
        ['PEXPIRE', 'unit:name:{a2}', kept],
        ['PEXPIRE', 'unit:actors:{p}', kept],
        ['ZADD', 'unit:processes', expect.any(String), 'p'],
        ['PEXPIRE', 'unit:processes', kept],
      ]),
    );
    // Once: the next renewal is half a day away.
    expect(renewed).toHaveLength(7);
    expect(await redis.during(2)).toSatisfy((sent: string[][]) => sent.every(isRefresh));
  });

  it("retries a retired actor's entry and name every interval until Redis takes them", async () => {
    const redis = new RecordingRedis();
    const { presence, failures } = presenceOn(redis);
    await spawnNamed(presence, 2);
    redis.failing = true;
    await expect(presence.retire([{ address: 'p/a1', name: 'a1' }])).rejects.toThrow(/down/);
    await redis.during(2);
    expect(failures.length).toBeGreaterThan(0);
    redis.failing = false;
    const retried = (await redis.during(2)).filter((command) => !isRefresh(command));
    expect(retried).toEqual(
      expect.arrayContaining([
        ['HDEL', 'unit:actors:{p}', 'p/a1'],
        [
          'EVALSHA',
          expect.any(String),
          '2',
          'unit:name:{a1}',
          'unit:actors:{a1}',
          'p/a1|nonce0000000',
          '1000',
          'a1',
        ],
      ]),
    );
    // Done: nothing but the refresh from now on.
    expect(await redis.during(2)).toSatisfy((sent: string[][]) => sent.every(isRefresh));
  });
});
