/**
 * The monitor on a Redis Cluster (issue 15, point 4): MONITOR on every
 * master, so it sees SPUBLISHes of every shard, a stranger's classic PUBLISH
 * and XADDs to durable inboxes, changes no receiver count (an ask to a name
 * nobody holds fails with NoRecipientError), and after a failover monitors the
 * promoted replica. On a 3-master + 3-replica cluster of this file's own
 * (test/cluster/cluster.ts).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, type MonitorEvent, NoRecipientError, defineActor } from '../../src/index.js';
import { slotOf } from '../../src/transport/cluster/slot.js';
import { captureLogger, uniqueNamespace } from '../helpers.js';
import { type TestCluster, startCluster } from './cluster.js';

let cluster: TestCluster;
let started = false;
beforeAll(async () => {
  cluster = await startCluster();
  started = true;
}, 60_000);
afterAll(async () => {
  if (started) await cluster.stop();
});

async function systemIn(namespace: string): Promise<ActorSystem> {
  const system = await ActorSystem.start({ url: cluster.url, namespace, logger: captureLogger() });
  onTestFinished(() => system.stop());
  return system;
}

/** Events kept, and a way to wait for the first one (past or future) that matches. */
function recorder() {
  const events: MonitorEvent[] = [];
  const waiters: { match: (event: MonitorEvent) => boolean; resolve: (e: MonitorEvent) => void }[] =
    [];
  const onEvent = (event: MonitorEvent): void => {
    events.push(event);
    for (const waiter of [...waiters]) {
      if (!waiter.match(event)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
  };
  const next = (match: (event: MonitorEvent) => boolean): Promise<MonitorEvent> => {
    const found = events.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return { events, onEvent, next };
}

const echo = defineActor({ handlers: { echo: (body: unknown) => body } });
/** Names whose channels hash to slots of different masters, as the test needs several shards. */
const NAMES = Array.from({ length: 6 }, (_, i) => `watched${i}`);

describe('the monitor on a Redis Cluster', () => {
  it('MONITOR on every master: asks and replies of every shard, a classic PUBLISH, an XADD; NoRecipientError still', async () => {
    const namespace = uniqueNamespace();
    const host = await systemIn(namespace);
    for (const name of NAMES) await host.spawn(echo, { name });
    const watcher = await systemIn(namespace);
    const asker = await systemIn(namespace);
    const seen = recorder();
    const stop = await watcher.monitor(seen.onEvent);
    expect(stop.mode).toBe('monitor');
    expect(stop.stats().connected).toBe(true);

    for (const name of NAMES) expect(await asker.ask(name, 'echo', name)).toBe(name);
    for (const name of NAMES) {
      const ask = await seen.next((e) => e.envelope?.kind === 'ask' && e.envelope.to === name);
      expect(ask).toMatchObject({ command: 'SPUBLISH', target: name });
      await seen.next(
        (e) => e.envelope?.kind === 'reply' && e.envelope.correlationId === ask.envelope?.id,
      );
    }
    const masters = new Set(
      await Promise.all(NAMES.map((name) => cluster.masterOf(slotOf(`${namespace}:${name}`)))),
    );
    expect(masters.size).toBeGreaterThan(1);

    const failure = await asker
      .ask('nobody-here', 'echo', null, { timeoutMs: 30_000 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NoRecipientError);

    // A stranger on one node: a classic PUBLISH, and an XADD on the master of the inbox's slot.
    const inbox = `${namespace}:inbox:{jobs}`;
    const owner = await cluster.masterOf(slotOf(inbox));
    const stranger = new Redis({ port: owner.port, host: '127.0.0.1' });
    onTestFinished(() => {
      stranger.disconnect();
    });
    await stranger.publish(`${namespace}:classic`, 'from a stranger');
    expect((await seen.next((e) => e.target === 'classic')).command).toBe('PUBLISH');
    const envelope = { v: 1, kind: 'tell', id: 'x-1', from: 'cli', to: 'jobs', type: 'resize' };
    await stranger.xadd(inbox, '*', 'm', JSON.stringify({ ...envelope, sentAt: Date.now() }));
    const appended = await seen.next((e) => e.command === 'XADD');
    expect(appended.envelope).toMatchObject({ to: 'jobs', type: 'resize' });
    await stop();
  }, 120_000);

  it('after a failover, monitors the promoted replica', async () => {
    const namespace = uniqueNamespace();
    const host = await systemIn(namespace);
    await host.spawn(echo, { name: 'survivor' });
    const watcher = await systemIn(namespace);
    const seen = recorder();
    const stop = await watcher.monitor(seen.onEvent);
    const slot = slotOf(`${namespace}:survivor`);
    const master = await cluster.masterOf(slot);
    await cluster.kill(master);
    await cluster.waitForPromotion(slot, master);
    // The monitor follows the map: it reads it every 250 ms until every master is monitored.
    while (!stop.stats().connected) await new Promise((resolve) => setTimeout(resolve, 50));
    // Once the system serves the name again (its own failover), an ask reaches it: it shows.
    let answered: number | undefined;
    for (let attempt = 0; answered === undefined; attempt++) {
      answered = await host
        .ask('survivor', 'echo', attempt, { timeoutMs: 1000 })
        .then(() => attempt)
        .catch(() => undefined);
    }
    const ask = await seen.next(
      (e) =>
        e.envelope?.kind === 'ask' && e.envelope.to === 'survivor' && e.envelope.body === answered,
    );
    expect(ask.command).toBe('SPUBLISH');
    expect(stop.stats().mode).toBe('monitor');
    await stop();
  }, 120_000);
});
