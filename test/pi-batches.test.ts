/**
 * The pi collector's batch ids, with batches published straight on its
 * channel: an id is counted at most once, ids not of the sender's form are
 * refused, and a contributor that sends once the computation is done is told
 * `done` again (once), with what it was credited.
 */
import { describe, expect, it } from 'vitest';
import { defineActor } from '../src/index.js';
import type { PiDone, PiStatus } from '../actors/pi-collector.js';
import { forgedTell, publish, supervise, until } from './forged.js';
import { rawClient, uniqueNamespace } from './helpers.js';

const COLLECTOR = { name: 'pi-collector', module: 'actors/pi-collector.ts' };
const batch = (id: unknown) => ({ inside: 785, total: 1000, id });

describe('pi collector, batch ids', () => {
  it('counts an id once, refuses ids that are not `<sender>#<seq>`, counts id-less batches', async () => {
    const namespace = uniqueNamespace();
    const { system } = await supervise(namespace, [COLLECTOR]);
    const redis = rawClient();
    const from = (sender: string, id: unknown) =>
      forgedTell('pi-collector', 'samples', batch(id), sender);
    await publish(redis, namespace, 'pi-collector', [
      from('h2-41', 'h2-41#0'),
      from('h2-41', 'h2-41#0'), // resent after a failed send
      from('h2-41', 'h2-41#1'),
      from('h3-52', 'h3-52#0'), // another contributor's seq 0
      from('h3-52', 'h2-41#2'), // under another address
      from('h3-52', 'h3-52#01'),
      from('h3-52', 42),
      from('h3-52', `h3-52#${'1'.repeat(16)}`),
      from('h2-41', 'h2-41#1000'), // past the window: what it skipped is forgotten
      from('h2-41', 'h2-41#5'),
      from('h2-41', 'h2-41#1000'),
      from('h3-52', undefined), // no id: counted, as before ids existed
      from('h3-52', undefined),
    ]);
    const status = await system.ask<PiStatus>('pi-collector', 'status');
    expect(status.contributions).toEqual([
      { address: 'h2-41', samples: 3000 },
      { address: 'h3-52', samples: 3000 },
    ]);
    expect(status.samples).toBe(6000);
    expect(status.duplicates).toBe(3);
    expect(status.refused).toMatchObject({ 'bad-batch-id': 4, 'bad-samples': 0 });
    // An ask with a bad id is answered with the refusal.
    await expect(
      system.ask('pi-collector', 'samples', batch(`${system.address}#x`)),
    ).rejects.toMatchObject({ remoteName: 'InvalidMessageError', remoteCode: 'INVALID_MESSAGE' });
  });

  it('tells a contributor done again, once, when it sends after done, with what it was credited', async () => {
    const namespace = uniqueNamespace();
    const { system } = await supervise(namespace, [COLLECTOR]);
    const dones: PiDone[] = [];
    const contributor = await system.spawn(
      defineActor({ handlers: { done: (body: PiDone) => void dones.push(body) } }),
      { name: 'contributor' },
    );
    const send = (seq: number) =>
      system.tell('pi-collector', 'samples', batch(`${system.address}#${seq}`));
    const sendAs = (seq: number) =>
      publish(
        rawClient(),
        namespace,
        'pi-collector',
        forgedTell(
          'pi-collector',
          'samples',
          batch(`${contributor.address}#${seq}`),
          contributor.address,
        ),
      );
    await send(0);
    await sendAs(0);
    await sendAs(1);
    await system.ask('pi-collector', 'target', { samples: 1 });
    await until(
      () => Promise.resolve(dones.length),
      (count) => count >= 1,
      'told done',
    );
    expect(dones[0]).toMatchObject({ samples: 3000, contributors: 2, credited: 2000 });
    // Its done was lost, say: the next batch brings it again; later ones do not.
    await sendAs(2);
    await until(
      () => Promise.resolve(dones.length),
      (count) => count >= 2,
      'told done again',
    );
    expect(dones[1]).toMatchObject({ samples: 3000, credited: 2000 });
    await sendAs(3);
    await sendAs(4);
    const status = await system.ask<PiStatus>('pi-collector', 'status');
    expect(status).toMatchObject({ done: true, samples: 3000, afterDone: 3 });
    // Nothing in flight: the status was answered after the last batch was handled.
    expect(dones).toHaveLength(2);
  });
});
