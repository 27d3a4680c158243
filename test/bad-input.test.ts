import { describe, expect, it } from 'vitest';
import { AskTimeoutError, PROTOCOL_VERSION, defineActor } from '../src/index.js';
import { captureLogger, deferred, rawClient, startSystem, uniqueNamespace } from './helpers.js';

async function target(options: { maxMessageBytes?: number } = {}) {
  const namespace = uniqueNamespace();
  const logger = captureLogger();
  const server = await startSystem({ namespace, logger, ...options });
  const client = await startSystem({ namespace });
  const handled: unknown[] = [];
  const ref = await server.spawn(
    defineActor({
      handlers: {
        record: (body: unknown) => {
          handled.push(body);
        },
        count: () => handled.length,
        echo: (body: unknown) => body,
      },
    }),
  );
  const raw = rawClient();
  const channel = `${namespace}:${ref.address}`;
  const publishRaw = async (payload: string | Buffer) => {
    expect(await raw.publish(channel, payload)).toBe(1);
  };
  const envelope = (fields: Record<string, unknown> = {}) => ({
    v: PROTOCOL_VERSION,
    id: `raw-${Math.random().toString(36).slice(2)}`,
    kind: 'tell',
    from: 'raw-client',
    to: ref.address,
    type: 'record',
    sentAt: Date.now(),
    body: 'x',
    ...fields,
  });
  return { server, client, ref, handled, logger, publishRaw, envelope };
}

describe('bad input on a mailbox is dropped, counted, logged once, and the actor keeps serving', () => {
  /** Label, refusal reason, payload, and how many refusals one payload makes (a batch: one per element). */
  const cases: [
    string,
    string,
    (e: (f?: Record<string, unknown>) => object) => string | Buffer,
    number?,
  ][] = [
    ['not JSON', 'not-json', () => 'hello, this is not JSON {'],
    ['binary garbage', 'not-json', () => Buffer.from([0xff, 0x00, 0x13, 0x37])],
    ['an empty JSON array', 'not-an-envelope', () => '[]'],
    ['a batch of non-envelopes (each refused)', 'not-an-envelope', () => '[1,"two",null]', 3],
    ['a JSON string', 'not-an-envelope', () => '"just a string"'],
    ['JSON null', 'not-an-envelope', () => 'null'],
    ['the wrong version', 'unsupported-version', (e) => JSON.stringify(e({ v: 99 }))],
    ['no version', 'unsupported-version', (e) => JSON.stringify({ ...e(), v: undefined })],
    ['no id', 'missing-field', (e) => JSON.stringify(e({ id: undefined }))],
    ['an empty id', 'missing-field', (e) => JSON.stringify(e({ id: '' }))],
    ['no from', 'missing-field', (e) => JSON.stringify(e({ from: undefined }))],
    ['no type', 'missing-field', (e) => JSON.stringify(e({ type: undefined }))],
    ['a numeric type', 'missing-field', (e) => JSON.stringify(e({ type: 42 }))],
    ['no sentAt', 'missing-field', (e) => JSON.stringify(e({ sentAt: undefined }))],
    ['an unknown kind', 'invalid-field', (e) => JSON.stringify(e({ kind: 'shout' }))],
    [
      'an ask without deadline',
      'missing-field',
      (e) => JSON.stringify(e({ kind: 'ask', replyTo: 'x' })),
    ],
    [
      'an ask without replyTo',
      'missing-field',
      (e) => JSON.stringify(e({ kind: 'ask', deadline: Date.now() + 9e6 })),
    ],
    ['a reply without correlationId', 'missing-field', (e) => JSON.stringify(e({ kind: 'reply' }))],
    [
      'superjson meta with a __proto__ path',
      'unsafe-meta',
      (e) =>
        JSON.stringify(e({ body: { a: 1 }, meta: { values: { '__proto__.polluted': ['Date'] } } })),
    ],
    [
      'superjson meta with a constructor.prototype path',
      'unsafe-meta',
      (e) =>
        JSON.stringify(
          e({
            body: { a: 1 },
            meta: { values: { 'constructor.prototype.polluted': ['undefined'] } },
          }),
        ),
    ],
    [
      'superjson meta with a prototype referential path',
      'unsafe-meta',
      (e) =>
        JSON.stringify(
          e({ body: { a: {} }, meta: { referentialEqualities: { a: ['prototype.x'] } } }),
        ),
    ],
    [
      'an own __proto__ key in the body',
      'unsafe-key',
      (e) => JSON.stringify(e()).replace('"body":"x"', '"body":{"__proto__":{"polluted":true}}'),
    ],
    [
      'an own __proto__ key at top level',
      'unsafe-key',
      (e) => JSON.stringify(e()).replace(/^\{/, '{"__proto__":{"polluted":true},'),
    ],
  ];

  it.each(cases)('%s', async (_label, reason, make, perPayload = 1) => {
    const { server, client, ref, handled, logger, publishRaw, envelope } = await target();
    const payload = make(envelope);
    await publishRaw(payload);
    await publishRaw(payload);
    // A follow-up ask on the same mailbox proves the actor still serves, and orders after the garbage.
    expect(await client.ask(ref.address, 'echo', 'still alive')).toBe('still alive');
    expect(handled).toEqual([]);
    const stats = server.stats();
    expect(stats.dropped.invalid).toBe(2 * perPayload);
    expect(stats.invalidByReason).toEqual({ [reason]: 2 * perPayload });
    expect(logger.lines.filter((line) => line.includes(reason))).toHaveLength(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('drops an oversized message without parsing it', async () => {
    const { server, client, ref, handled, publishRaw, envelope } = await target({
      maxMessageBytes: 4096,
    });
    await publishRaw(JSON.stringify(envelope({ body: 'x'.repeat(10_000) })));
    expect(await client.ask(ref.address, 'echo', 1)).toBe(1);
    expect(handled).toEqual([]);
    expect(server.stats().invalidByReason).toEqual({ oversized: 1 });
  });

  it('accepts a plain JSON body from a non-framework client', async () => {
    const { client, ref, handled, publishRaw, envelope } = await target();
    await publishRaw(JSON.stringify(envelope({ body: { name: 'bob', tags: ['a', 'b'], n: 1.5 } })));
    expect(await client.ask(ref.address, 'count')).toBe(1);
    expect(handled).toEqual([{ name: 'bob', tags: ['a', 'b'], n: 1.5 }]);
  });

  it('handles each envelope of a batch on its own, refusing only the bad ones', async () => {
    const { server, client, ref, handled, publishRaw, envelope } = await target();
    await publishRaw(
      JSON.stringify([
        envelope({ body: 'first' }),
        { not: 'an envelope' },
        envelope({ body: 'third' }),
      ]),
    );
    expect(await client.ask(ref.address, 'count')).toBe(2);
    expect(handled).toEqual(['first', 'third']);
    expect(server.stats().invalidByReason).toEqual({ 'unsupported-version': 1 });
  });

  it('processes a duplicated envelope id once and counts the duplicate', async () => {
    const { server, client, ref, handled, publishRaw, envelope } = await target();
    const once = JSON.stringify(envelope({ id: 'same-id-twice', body: 'only once' }));
    await publishRaw(once);
    await publishRaw(once);
    expect(await client.ask(ref.address, 'count')).toBe(1);
    expect(handled).toEqual(['only once']);
    expect(server.stats().dropped.duplicate).toBe(1);
  });

  it('does not run the handler of an ask whose deadline passed before it arrived', async () => {
    const { server, client, ref, handled, publishRaw, envelope } = await target();
    await publishRaw(
      JSON.stringify(
        envelope({
          kind: 'ask',
          replyTo: client.address,
          deadline: Date.now() - 1000,
          body: 'late',
        }),
      ),
    );
    expect(await client.ask(ref.address, 'count')).toBe(0);
    expect(handled).toEqual([]);
    expect(server.stats().dropped.expired).toBe(1);
  });

  it('drops a reply that arrives after its ask timed out, never handing it to another caller', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    const client = await startSystem({ namespace });
    const release = deferred();
    await server.spawn(
      defineActor({
        handlers: {
          slow: async (tag: string) => {
            await release.promise;
            return tag;
          },
          fast: (tag: string) => tag,
        },
      }),
      { name: 'slowpoke' },
    );
    await expect(
      client.ask('slowpoke', 'slow', 'first', { timeoutMs: 100 }),
    ).rejects.toBeInstanceOf(AskTimeoutError);
    const second = client.ask('slowpoke', 'fast', 'second');
    release.resolve();
    // Same mailbox, same reply channel: the late reply to "first" arrives before "second"'s.
    expect(await second).toBe('second');
    expect(client.stats().dropped.lateReply).toBe(1);
  });
});
