/**
 * `redis-actors dead <name>`: the dead letters of a durable mailbox listed
 * (table and --json), put back (--retry) and dropped (--drop), through the
 * built CLI against the test Redis.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defineActor } from '../../src/index.js';
import {
  assertBuildIsCurrent,
  deferred,
  rawClient,
  runRedisActorsCli,
  startSystem,
  uniqueNamespace,
} from '../helpers.js';

function dead(args: string[], namespace: string) {
  return runRedisActorsCli(['dead', ...args], namespace);
}

beforeAll(() => {
  assertBuildIsCurrent();
});

describe('redis-actors dead', () => {
  it('lists the dead letters of a mailbox, puts them back and drops them', async () => {
    const namespace = uniqueNamespace();
    const host = await startSystem({ namespace });
    const sender = await startSystem({ namespace });
    let healed = false;
    const handled = deferred<number>();
    await host.spawn(
      defineActor({
        handlers: {
          charge: (n: number) => {
            if (!healed) throw new Error(`card ${n} declined`);
            handled.resolve(n);
          },
        },
      }),
      { name: 'billing', mailbox: { durable: true, maxDeliveries: 2, retryDelayMs: 10 } },
    );
    const raw = rawClient();
    const deadKey = `${namespace}:dead:{billing}`;
    await sender.tell('billing', 'charge', 41);
    while ((await raw.xlen(deadKey)) === 0) {
      await raw.xread('BLOCK', 5000, 'STREAMS', deadKey, '0');
    }

    const table = await dead(['billing'], namespace);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+KIND\s+TYPE\s+FROM\s+DELIVERIES\s+AGE\s+ERROR/);
    expect(table.stdout).toMatch(/tell\s+charge\s+\S+\s+2\s+\d+s\s+.*card 41 declined/);

    const json = await dead(['billing', '--json'], namespace);
    const [letter] = JSON.parse(json.stdout) as { id: string; type: string; deliveries: number }[];
    expect(letter).toMatchObject({ type: 'charge', deliveries: 2 });

    healed = true;
    const back = await dead(['billing', '--retry', letter?.id ?? ''], namespace);
    expect(back.stdout).toBe("1 put back into billing's mailbox");
    expect(await handled.promise).toBe(41);
    expect(await raw.xlen(deadKey)).toBe(0);

    healed = false;
    await sender.tell('billing', 'charge', 42);
    while ((await raw.xlen(deadKey)) === 0) {
      await raw.xread('BLOCK', 5000, 'STREAMS', deadKey, '0');
    }
    expect((await dead(['billing', '--drop', 'all'], namespace)).stdout).toBe('1 dropped');
    expect(await raw.xlen(deadKey)).toBe(0);
    expect((await dead(['billing'], namespace)).stdout).toBe('no dead letters');
  });

  it("lists a stranger's dead letters without breaking the table or the terminal", async () => {
    const namespace = uniqueNamespace();
    const raw = rawClient();
    const key = `${namespace}:dead:{victim}`;
    await raw.xadd(
      key,
      '*',
      'error',
      `\u001b[2Jwiped\n${'x'.repeat(100_000)}`,
      'deliveries',
      'lots',
    );
    await raw.xadd(key, '*', 'm', Buffer.alloc(2 * 1024 * 1024, 0x7b), 'at', 'yesterday');
    await raw.xadd(key, '*', 'm', '{"kind":{"__proto__":1},"type":["a"]}');
    const table = await dead(['victim'], namespace);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toContain('\u001b');
    const rows = table.stdout.split('\n');
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row.length).toBeLessThan(400);
    const json = await dead(['victim', '--json'], namespace);
    const letters = JSON.parse(json.stdout) as {
      kind: string;
      deliveries: number;
      error: string;
    }[];
    expect(letters.map((letter) => letter.kind)).toEqual(['?', '?', '?']);
    expect(letters[0]?.deliveries).toBe(0);
    expect(letters[0]?.error.length).toBeLessThanOrEqual(2000);
  });
});
