/**
 * A message published again after a reconnect (as a client that resends
 * unanswered commands does) is handled once, and the duplicate is counted.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { HealthReport } from '../../src/index.js';
import { Names } from '../../src/wire/address.js';
import { faultScene } from './scene.js';

describe('duplicates', () => {
  it('handles a message resent after a reconnect once, and counts the duplicate', async () => {
    const { redis, namespace, responder, system } = await faultScene();
    const channel = new Names(namespace).channel('remote');
    const publisher = redis.admin();

    // A framework sender's message, captured on its way.
    const sniffer = redis.admin();
    await sniffer.subscribe(channel);
    const captured = once(sniffer, 'messageBuffer') as Promise<[Buffer, Buffer]>;
    await system.tell('remote', 'mark', 'framework');
    const [, frameworkPayload] = await captured;
    await sniffer.quit();
    // A foreign client's message, with an id of its own making.
    const foreignPayload = JSON.stringify({
      v: 1,
      id: 'client-42',
      kind: 'tell',
      from: 'raw-client',
      to: 'remote',
      type: 'mark',
      body: 'foreign',
      sentAt: Date.now(),
    });
    expect(await publisher.publish(channel, foreignPayload)).toBe(1);

    // The receiver's connection drops and comes back; then both are sent again.
    await publisher.client('KILL', 'TYPE', 'pubsub');
    await responder.waitForLine(/^RESTORED$/);
    expect(await publisher.publish(channel, frameworkPayload)).toBe(1);
    expect(await publisher.publish(channel, foreignPayload)).toBe(1);

    const executed = await system.ask<{ mark: unknown[] }>('remote', 'executed');
    expect(executed.mark).toEqual(['framework', 'foreign']);
    const health = await system.ask<HealthReport>('remote', 'health');
    expect(health.dropped.duplicate).toBe(2);
  });
});
