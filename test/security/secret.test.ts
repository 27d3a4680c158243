/**
 * The namespace secret: with it every payload is signed (HMAC-SHA-256 over the
 * channel and the exact bytes), and every payload without a valid signature
 * is refused and counted, whatever it claims to be.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PROTOCOL_VERSION, Supervisor, defineActor } from '../../src/index.js';
import { deferred, rawClient, startSystem, uniqueNamespace } from '../helpers.js';

const WORKER = 'test/fixtures/worker.ts';

/** The first payload a stranger subscribed to `channel` sees (it is subscribed on return). */
async function firstPayloadOn(raw: Redis, channel: string): Promise<{ first: Promise<Buffer> }> {
  const sniffer = raw.duplicate();
  onTestFinished(() => {
    sniffer.disconnect();
  });
  const captured = deferred<Buffer>();
  sniffer.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
    captured.resolve(payload);
  });
  await sniffer.subscribe(channel);
  return { first: captured.promise };
}

async function pair(secret: Buffer, namespace = uniqueNamespace()) {
  const told: unknown[] = [];
  const target = await startSystem({ namespace, auth: { secret } });
  await target.spawn(
    defineActor({
      handlers: {
        echo: (body: unknown) => body,
        record: (body: unknown) => {
          told.push(body);
        },
        count: () => told.length,
      },
    }),
    { name: 'target' },
  );
  const client = await startSystem({ namespace, auth: { secret } });
  return { namespace, target, client, told };
}

const tell = (body: unknown) =>
  JSON.stringify({
    v: PROTOCOL_VERSION,
    id: `stranger.${Math.random().toString(36).slice(2)}`,
    kind: 'tell',
    from: 'stranger',
    to: 'target',
    type: 'record',
    sentAt: Date.now(),
    body,
  });

describe('namespace secret', () => {
  it('signed asks, tells, binary bodies and claim-checked messages work', async () => {
    const { client, told } = await pair(randomBytes(32));
    expect(await client.ask('target', 'echo', { a: 1 })).toEqual({ a: 1 });
    const bytes = randomBytes(1000);
    expect(Buffer.compare(await client.ask<Buffer>('target', 'echo', bytes), bytes)).toBe(0);
    const large = 'x'.repeat(client.options.claimCheckBytes + 1000);
    expect(await client.ask('target', 'echo', large)).toBe(large);
    await client.tell('target', 'record', 'told');
    expect(await client.ask('target', 'count')).toBe(1);
    expect(told).toEqual(['told']);
  });

  it('refuses unsigned payloads, another secret, and a signature moved to another channel', async () => {
    const secret = randomBytes(32);
    const { namespace, target, client } = await pair(secret);
    const stranger = await startSystem({ namespace, auth: { secret: randomBytes(32) } });
    const raw = rawClient();
    await raw.publish(`${namespace}:target`, tell('unsigned'));
    await stranger.tell('target', 'record', 'other secret').catch(() => undefined);
    // A genuine signed payload, captured on one channel and published on another.
    const captured = await firstPayloadOn(raw, `${namespace}:${target.address}`);
    await client.tell(target.address, 'anything').catch(() => undefined);
    await raw.publish(`${namespace}:target`, await captured.first);
    await expect
      .poll(() => {
        const reasons = target.stats().invalidByReason;
        return [reasons.unsigned, reasons['bad-mac']];
      })
      .toEqual([1, 2]);
    expect(await client.ask('target', 'count')).toBe(0);
  });

  it('a signed message replayed is handled once', async () => {
    const { namespace, target, client } = await pair(randomBytes(32));
    const raw = rawClient();
    const captured = await firstPayloadOn(raw, `${namespace}:target`);
    await client.tell('target', 'record', 'once');
    const payload = await captured.first;
    expect(payload.toString().startsWith('RAS1.')).toBe(true);
    await raw.publish(`${namespace}:target`, payload);
    await raw.publish(`${namespace}:target`, payload);
    await expect.poll(() => target.stats().dropped.duplicate).toBe(2);
    expect(await client.ask('target', 'count')).toBe(1);
  });

  it('topics are signed; a raw PUBLISH reaches only a topic opened as unsigned', async () => {
    const secret = randomBytes(32);
    const { namespace, target, client } = await pair(secret);
    const signed: unknown[] = [];
    const refused: string[] = [];
    await target.topic('news').subscribe(
      (value) => signed.push(value),
      (_text, why) => refused.push(why),
    );
    const open: unknown[] = [];
    const openArrived = deferred();
    await target.topic('lobby', { unsigned: true }).subscribe((value) => {
      open.push(value);
      openArrived.resolve();
    });
    const raw = rawClient();
    await raw.publish(`${namespace}:topic:news`, JSON.stringify('forged'));
    await client.topic('news').publish('genuine');
    await raw.publish(`${namespace}:topic:lobby`, JSON.stringify('from redis-cli'));
    await openArrived.promise;
    await expect.poll(() => signed).toEqual(['genuine']);
    expect(refused).toEqual([expect.stringContaining('unsigned')]);
    expect(open).toEqual(['from redis-cli']);
  });

  it('a monitor with the secret tells genuine traffic from forged', async () => {
    const { namespace, client } = await pair(randomBytes(32));
    const events: { type?: string; signature?: string; problem?: string }[] = [];
    const both = deferred();
    const stop = await client.monitor((event) => {
      const type = event.envelope?.kind === 'tell' ? event.envelope.type : undefined;
      events.push({ type, signature: event.signature, problem: event.problem });
      if (events.length === 2) both.resolve();
    });
    onTestFinished(stop);
    await client.tell('target', 'record', 'genuine');
    await rawClient().publish(`${namespace}:target`, tell('forged'));
    await both.promise;
    expect(events[0]).toEqual({ type: 'record', signature: 'valid', problem: undefined });
    expect(events[1]?.signature).toBeUndefined();
    expect(events[1]?.problem).toMatch(/^unsigned/);
  });

  it('supervised children get the secret given as an option, never on their command line', async () => {
    const namespace = uniqueNamespace();
    const secret = randomBytes(32);
    const system = await startSystem({ namespace, auth: { secret } });
    const supervisor = await Supervisor.start(system);
    onTestFinished(() => supervisor.stop());
    const child = await supervisor.spawn({ name: 'w', module: WORKER });
    expect(await system.ask('w', 'pid')).toBe(child.pid);
    const { readFileSync } = await import('node:fs');
    const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    expect(argv).not.toContain(secret.toString('base64'));
    // The child refuses what is not signed with that secret.
    const raw = rawClient();
    await raw.publish(`${namespace}:w`, tell('unsigned'));
    const health = await system.ask<{ invalidByReason: Record<string, number> }>('w', 'health');
    expect(health.invalidByReason).toMatchObject({ unsigned: 1 });
  });
});
