/**
 * The receive and send pipelines over the in-process broker: arrival order,
 * settling asks exactly once, claim-check refusals, dedupe, health ahead of a
 * full mailbox, back-pressure. Fast and deterministic; the same behaviours
 * cross a real Redis in the integration tests.
 */
import { describe, expect, it } from 'vitest';
import { AskTimeoutError, InvalidMessageError, defineActor } from '../../src/index.js';
import { PROTOCOL_VERSION } from '../../src/wire/index.js';
import { deferred } from '../helpers.js';
import { broker, inProcessSystem } from './in-process-system.js';

const record = (seen: unknown[], done?: { count: number; resolve: () => void }) =>
  defineActor({
    handlers: {
      record: (body: unknown) => {
        seen.push(body);
        if (done !== undefined && seen.length === done.count) done.resolve();
      },
      echo: (body: unknown) => body,
    },
  });

describe('pipelines over the in-process broker', () => {
  it('keeps arrival order across a claim-checked message', async () => {
    const b = broker();
    const server = await inProcessSystem(b);
    const client = await inProcessSystem(b, { claimCheckBytes: 1024 });
    const seen: unknown[] = [];
    const all = deferred();
    const target = await server.actors.spawn(
      record(seen, {
        count: 3,
        resolve: () => {
          all.resolve();
        },
      }),
      {},
    );
    const large = `large ${'x'.repeat(4096)}`;
    for (const body of ['first', large, 'third']) {
      void client.asks.tell(client.address, target, 'record', body, false);
    }
    await all.promise;
    expect(seen).toEqual(['first', large, 'third']);
  });

  it('settles an ask once: its timeout first, then the late reply is only counted', async () => {
    const b = broker();
    const server = await inProcessSystem(b);
    const client = await inProcessSystem(b);
    const release = deferred();
    const target = await server.actors.spawn(
      defineActor({
        handlers: {
          slow: async () => {
            await release.promise;
            return 'late';
          },
          fast: () => 'fast',
        },
      }),
      {},
    );
    const slow = client.asks.ask(
      client.address,
      target,
      'slow',
      undefined,
      { timeoutMs: 20 },
      false,
    );
    await expect(slow).rejects.toBeInstanceOf(AskTimeoutError);
    const fast = client.asks.ask(client.address, target, 'fast', undefined, undefined, false);
    release.resolve();
    // Same mailbox, same reply channel: the late reply arrives before the fast one's.
    expect(await fast).toBe('fast');
    expect(client.diagnostics.counters().dropped.lateReply).toBe(1);
    expect(client.asks.size).toBe(0);
  });

  it('refuses forged claim-check stubs by reason, and answers a forged claimed ask with an error', async () => {
    const b = broker();
    const server = await inProcessSystem(b);
    const seen: unknown[] = [];
    const target = await server.actors.spawn(record(seen), {});
    const stranger = b.connect('stranger');
    const errors: unknown[] = [];
    const answered = deferred();
    await stranger.subscribe(server.names.channel('stranger'), (payload) => {
      errors.push(JSON.parse(payload.toString()));
      answered.resolve();
    });
    const stub = (id: string, key: string, size: number, extra: object = {}) =>
      JSON.stringify({
        v: PROTOCOL_VERSION,
        id,
        kind: 'tell',
        from: 'stranger',
        to: target,
        type: 'record',
        sentAt: Date.now(),
        claim: { key, size },
        ...extra,
      });
    const ns = server.names.namespace;
    const token = 'T'.repeat(22);
    // The form a sender makes: the recipient channel's hash tag, the id, a token.
    const claimKey = (id: string) => `${ns}:claim:{${server.names.channel(target)}}:${id}:${token}`;
    const publish = (text: string) =>
      new Promise<void>((resolve) => {
        stranger.publish(server.names.channel(target), text, () => {
          resolve();
        });
      });
    // No token in the key: never fetched.
    await publish(stub('s1', `${ns}:claim:s1`, 5));
    // The stored value is not the declared size.
    await stranger.command(['SET', claimKey('s2'), 'more than five bytes']);
    await publish(stub('s2', claimKey('s2'), 5));
    // The stored header differs from the stub's.
    const stored = JSON.stringify({
      v: PROTOCOL_VERSION,
      id: 's3',
      kind: 'tell',
      from: 'someone-else',
      to: target,
      type: 'record',
      sentAt: Date.now(),
      body: 'swapped',
    });
    await stranger.command(['SET', claimKey('s3'), stored]);
    await publish(stub('s3', claimKey('s3'), Buffer.byteLength(stored)));
    // An ask whose claim is gone: the asker is told.
    await publish(
      stub('s4', claimKey('s4'), 10, {
        kind: 'ask',
        replyTo: 'stranger',
        deadline: Date.now() + 60_000,
      }),
    );
    await answered.promise;
    expect(seen).toEqual([]);
    expect(server.diagnostics.counters().invalidByReason).toEqual({
      'bad-claim': 3,
      'claim-missing': 1,
    });
    expect(errors).toMatchObject([{ kind: 'error', correlationId: 's4' }]);
    await stranger.close();
  });

  it('drops repeats and messages sent too long ago, counted by reason', async () => {
    const b = broker();
    const server = await inProcessSystem(b);
    const client = await inProcessSystem(b);
    const seen: unknown[] = [];
    const target = await server.actors.spawn(record(seen), {});
    const stranger = b.connect('stranger');
    const tell = (id: string, sentAt: number) =>
      new Promise<void>((resolve) => {
        const text = JSON.stringify({
          v: PROTOCOL_VERSION,
          id,
          kind: 'tell',
          from: 'stranger',
          to: target,
          type: 'record',
          sentAt,
          body: id,
        });
        stranger.publish(server.names.channel(target), text, () => {
          resolve();
        });
      });
    await tell('once', Date.now());
    await tell('once', Date.now());
    await tell('old', Date.now() - 60_000);
    expect(await client.asks.ask(client.address, target, 'echo', 'after', undefined, false)).toBe(
      'after',
    );
    expect(seen).toEqual(['once']);
    const { dropped, invalidByReason } = server.diagnostics.counters();
    expect(dropped.duplicate).toBe(1);
    expect(invalidByReason).toEqual({ stale: 1 });
    await stranger.close();
  });

  it('answers health ahead of a full mailbox', async () => {
    const b = broker();
    const server = await inProcessSystem(b);
    const client = await inProcessSystem(b);
    const release = deferred();
    const started = deferred();
    const target = await server.actors.spawn(
      defineActor({
        mailbox: { capacity: 1 },
        handlers: {
          block: async () => {
            started.resolve();
            await release.promise;
          },
        },
      }),
      {},
    );
    void client.asks.tell(client.address, target, 'block', undefined, false);
    await started.promise;
    void client.asks.tell(client.address, target, 'block', undefined, false);
    const full = client.asks.ask(client.address, target, 'block', undefined, undefined, false);
    await expect(full).rejects.toThrow(/mailbox of .* is full/);
    const health = await client.asks.ask<{ mailboxDepth: number; processing: number }>(
      client.address,
      target,
      'health',
      undefined,
      undefined,
      false,
    );
    expect(health).toMatchObject({ mailboxDepth: 1, processing: 1 });
    release.resolve();
  });

  it('holds sends back, unencoded and in order, while the write buffer is full', async () => {
    const b = broker();
    const server = await inProcessSystem(b);
    const client = await inProcessSystem(b);
    const seen: unknown[] = [];
    const all = deferred();
    const target = await server.actors.spawn(
      record(seen, {
        count: 3,
        resolve: () => {
          all.resolve();
        },
      }),
      {},
    );
    client.transport.backlogBytes = Number.MAX_SAFE_INTEGER;
    const body = { n: 1 };
    const told = [1, 2, 3].map(() => {
      const promise = client.asks.tell(client.address, target, 'record', { ...body }, false);
      body.n++;
      return promise;
    });
    // Held back: an ask timing out meanwhile is never sent at all.
    const dropped = client.asks.ask(client.address, target, 'echo', 'x', { timeoutMs: 10 }, false);
    await expect(dropped).rejects.toBeInstanceOf(AskTimeoutError);
    expect(client.outbox.sent).toBe(0);
    expect(client.outbox.backlog).toBe(4);
    client.transport.backlogBytes = 0;
    client.transport.emit('writable');
    await Promise.all(told);
    await all.promise;
    expect(seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(client.outbox.sent).toBe(3);
  });

  it('refuses to send a body nested deeper than maxNestingDepth', async () => {
    const b = broker();
    const client = await inProcessSystem(b, { maxNestingDepth: 10 });
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = [deep];
    await expect(
      client.asks.tell(client.address, 'anyone', 'x', deep, false),
    ).rejects.toBeInstanceOf(InvalidMessageError);
    expect(client.outbox.sent).toBe(0);
  });
});
