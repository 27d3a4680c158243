import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../src/transport/cluster/slot.js';
import { type TestCluster, startCluster } from './cluster.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster.stop();
});

describe('key slots', () => {
  it('are the ones Redis computes, hash tags included', async () => {
    const admin = cluster.admin(cluster.nodes[0] as (typeof cluster.nodes)[number]);
    const keys = [
      'foo',
      '{user1000}.following',
      'a{}b',
      '{',
      'x{y',
      '{}{a}',
      'ra:name:{ra:clock}',
      'é€😀',
    ];
    for (let i = 0; i < 200; i++) keys.push(`k${i}:${Math.random().toString(36)}{${i % 7}}`);
    for (const key of keys) {
      expect(slotOf(key), key).toBe(Number(await admin.call('CLUSTER', 'KEYSLOT', key)));
    }
  });
});
