/**
 * kill -9 of a master: its replica is promoted, the transport reads the new
 * slot map, moves the subscriptions there, and every actor answers again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorSystem, defineActor } from '../../src/index.js';
import { slotOf } from '../../src/transport/cluster/slot.js';
import { uniqueNamespace } from '../helpers.js';
import { type TestCluster, startCluster } from './cluster.js';

let cluster: TestCluster;
const systems: ActorSystem[] = [];
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await Promise.all(systems.map((system) => system.stop()));
  await cluster.stop();
});

const echo = defineActor({ handlers: { echo: (body: unknown) => body } });

/** Asks until one is answered; the time of the first answer. */
async function firstAnswer(system: ActorSystem, to: string): Promise<number> {
  for (;;) {
    try {
      await system.ask(to, 'echo', 'again?', { timeoutMs: 500 });
      return Date.now();
    } catch {
      // Not yet: the failover is under way.
    }
  }
}

describe('failover', () => {
  it('after kill -9 of a master, every actor answers again and asks in flight settle once', async () => {
    const namespace = uniqueNamespace();
    const start = async (): Promise<ActorSystem> => {
      const system = await ActorSystem.start({ url: cluster.url, namespace });
      systems.push(system);
      return system;
    };
    const server = await start();
    const client = await start();
    const names = Array.from({ length: 12 }, (_, i) => `svc${i}`);
    for (const name of names) await server.spawn(echo, { name });
    const victim = await cluster.masterOf(slotOf(`${namespace}:${names[0]}`));
    const onVictim = [];
    for (const name of names) {
      if ((await cluster.masterOf(slotOf(`${namespace}:${name}`))).port === victim.port)
        onVictim.push(name);
    }
    let settled = 0;
    const inFlight = Array.from({ length: 200 }, (_, i) =>
      client
        .ask(names[i % names.length] as string, 'echo', i, { timeoutMs: 3000 })
        .then(
          () => 'answered',
          (error: unknown) => (error as Error).name,
        )
        .finally(() => settled++),
    );
    await cluster.kill(victim);
    const killedAt = Date.now();
    const outcomes = await Promise.all(inFlight);
    expect(settled).toBe(200);
    expect(
      outcomes.every((outcome) =>
        ['answered', 'AskTimeoutError', 'ConnectionError', 'NoRecipientError'].includes(outcome),
      ),
    ).toBe(true);
    await cluster.waitForPromotion(slotOf(`${namespace}:${names[0]}`), victim);
    const healthyAt = Date.now();
    const answeredAt = await Promise.all(names.map((name) => firstAnswer(client, name)));
    const recoveredMs = Math.max(...answeredAt) - healthyAt;
    console.log(
      `failover: ${onVictim.length} of ${names.length} names on the killed master; replica promoted ` +
        `${healthyAt - killedAt} ms after the kill; every actor answered ${recoveredMs} ms after that; ` +
        `in flight: ${JSON.stringify(outcomes.reduce<Record<string, number>>((tally, each) => ({ ...tally, [each]: (tally[each] ?? 0) + 1 }), {}))}`,
    );
    expect(onVictim.length).toBeGreaterThan(0);
    expect(recoveredMs).toBeLessThanOrEqual(5000);
    for (const name of names) expect(await client.ask(name, 'echo', name)).toBe(name);
  });
});
