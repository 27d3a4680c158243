/**
 * Dedupe that a stranger can neither turn into silence nor into a replay:
 * forged ids with a victim's sender nonce, a flood of fake nonces, and
 * messages from the distant past or future.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, defineActor } from '../../src/index.js';
import { deferred, rawClient, startSystem, uniqueNamespace } from '../helpers.js';

async function scene() {
  const namespace = uniqueNamespace();
  const target = await startSystem({ namespace });
  const victim = await startSystem({ namespace });
  const handled: unknown[] = [];
  await target.spawn(
    defineActor({
      handlers: {
        record: (body: unknown) => {
          handled.push(body);
        },
        count: () => handled.length,
      },
    }),
    { name: 'target' },
  );
  const channel = `${namespace}:target`;
  const raw = rawClient();
  /** The next message the victim sends to the target, as the stranger sees it on the channel. */
  const sniff = async (send: () => Promise<void>): Promise<Buffer> => {
    const sniffer = raw.duplicate();
    await sniffer.subscribe(channel);
    const captured = deferred<Buffer>();
    sniffer.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
      captured.resolve(payload);
    });
    await send();
    const payload = await captured.promise;
    sniffer.disconnect();
    return payload;
  };
  const forged = (fields: Record<string, unknown>) =>
    JSON.stringify({
      v: PROTOCOL_VERSION,
      kind: 'tell',
      from: 'stranger',
      to: 'target',
      type: 'record',
      body: 'forged',
      sentAt: Date.now(),
      ...fields,
    });
  return { target, victim, handled, channel, raw, sniff, forged };
}

describe('dedupe against a stranger', () => {
  it("a forged id with the victim's nonce and a huge counter does not silence the victim", async () => {
    const { target, victim, handled, channel, raw, sniff, forged } = await scene();
    const first = await sniff(() => victim.tell('target', 'record', 'v0'));
    const sent = JSON.parse(first.toString()) as { id: string; sentAt: number };
    const nonce = sent.id.split('.')[0];
    // Sent after v0 (so not out of order) and before v1 (so v1 replaces the forged mark).
    const forgedAt = sent.sentAt + 1;
    await raw.publish(channel, forged({ id: `${nonce}.zzzzzzzzzzz`, sentAt: forgedAt }));
    while (Date.now() <= forgedAt) await new Promise((resolve) => setImmediate(resolve));
    for (let i = 1; i <= 10; i++) await victim.tell('target', 'record', `v${i}`);
    expect(await victim.ask('target', 'count')).toBe(12);
    expect(handled.filter((body) => body !== 'forged')).toEqual(
      Array.from({ length: 11 }, (_, i) => `v${i}`),
    );
    expect(target.stats().dropped.duplicate).toBe(0);
  });

  it('10,001 fake sender nonces do not make a captured message replayable', async () => {
    const { target, victim, channel, raw, sniff, forged } = await scene();
    const captured = await sniff(() => victim.tell('target', 'record', 'once'));
    for (let batch = 0; batch < 11; batch++) {
      const envelopes = Array.from({ length: 1000 }, (_, i) =>
        forged({ id: `f${String(batch * 1000 + i).padStart(11, '0')}.1`, body: 'fake' }),
      );
      await raw.publish(channel, `[${envelopes.join(',')}]`);
    }
    await raw.publish(channel, forged({ id: `${'g'.repeat(12)}.1`, body: 'fake' }));
    expect(await raw.publish(channel, captured)).toBe(1);
    await victim.ask('target', 'count');
    expect(target.stats().dropped.duplicate).toBe(1);
  });

  it('refuses messages sent long ago or in the future, counted by reason', async () => {
    const { target, victim, handled, channel, raw, forged } = await scene();
    await raw.publish(channel, forged({ id: 'old-1', sentAt: Date.now() - 60_000 }));
    await raw.publish(channel, forged({ id: 'future-1', sentAt: Date.now() + 60_000 }));
    expect(await victim.ask('target', 'count')).toBe(0);
    expect(handled).toEqual([]);
    expect(target.stats().invalidByReason).toEqual({ stale: 1, future: 1 });
  });
});
