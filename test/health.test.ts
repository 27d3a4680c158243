/**
 * The `health` message and health(): state and counters of an actor and its
 * actor system, answered straight from the system (not queued behind work).
 */
import { describe, expect, it } from 'vitest';
import { HEALTH_TYPE, type HealthReport, defineActor } from '../src/index.js';
import { deferred, rawClient, startSystem, uniqueNamespace } from './helpers.js';

describe('health', () => {
  it('reports an actor’s mailbox, the connection state and the drop counters, even while the actor is stuck', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    const client = await startSystem({ namespace });
    const stuck = deferred();
    await server.spawn(
      defineActor({ handlers: { block: () => stuck.promise, echo: (body: unknown) => body } }),
      { name: 'worker', mailbox: { capacity: 5 } },
    );
    // One message in progress, two waiting.
    for (let i = 0; i < 3; i++) await client.tell('worker', 'block');
    // Garbage is refused and counted.
    expect(await rawClient().publish(`${namespace}:worker`, 'not json')).toBe(1);
    const pendingEcho = client.ask('worker', 'echo', 'queued');

    const report = await client.ask<HealthReport>('worker', HEALTH_TYPE);
    expect(report).toMatchObject({
      address: server.address,
      name: 'worker',
      system: server.address,
      pid: process.pid,
      state: 'running',
      connected: true,
      subscribed: true,
      connectionLosses: 0,
      mailboxDepth: 3,
      mailboxCapacity: 5,
      processing: 1,
      handled: 0,
      invalidByReason: { 'not-json': 1 },
    });
    expect(report.dropped).toMatchObject({ invalid: 1, mailboxFull: 0 });
    expect(report.memory.rss).toBeGreaterThan(report.memory.heapUsed);
    expect(report.uptimeMs).toBeGreaterThanOrEqual(0);
    // The asker's own pending ask shows in its system's health.
    expect(client.health().pendingAsks).toBe(1);
    expect(server.health('worker')).toMatchObject({ mailboxDepth: 3, processing: 1 });

    stuck.resolve();
    expect(await pendingEcho).toBe('queued');
    expect(server.health('worker')).toMatchObject({ mailboxDepth: 0, handled: 4 });
  });

  it('lets an actor answer `health` itself, and answers for a process that hosts no actor', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    const client = await startSystem({ namespace });
    await server.spawn(defineActor({ handlers: { health: () => 'my own report' } }), {
      name: 'custom',
    });
    expect(await client.ask('custom', HEALTH_TYPE)).toBe('my own report');
    const bare = await server.ask<HealthReport>(client.address, HEALTH_TYPE);
    expect(bare).toMatchObject({
      address: client.address,
      name: undefined,
      system: client.address,
      mailboxDepth: 0,
      mailboxCapacity: 0,
      connected: true,
    });
  });
});
