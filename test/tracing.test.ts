/**
 * OpenTelemetry trace context (src/core/tracing.ts, docs/PROTOCOL.md "Trace
 * context"): the W3C fields on the wire and their checks, PRODUCER and
 * CONSUMER spans across two processes, and no trace work without a provider.
 */
import { ROOT_CONTEXT, context, createTraceState, trace } from '@opentelemetry/api';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION, RemoteError, defineActor } from '../src/index.js';
import { Codec, type Envelope, Refusal } from '../src/wire/index.js';
import { type SpanRecord, registerSdk, spanRecord, unregisterSdk } from './fixtures/tracing-sdk.js';
import {
  captureLogger,
  deferred,
  rawClient,
  runTs,
  startSystem,
  uniqueNamespace,
} from './helpers.js';

const PRODUCER = 3;
const CONSUMER = 4;
const ERROR = 2;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

type Seen = Record<string, unknown>;

/**
 * A raw subscriber of `channel` of its own: every envelope published there (a
 * batch counts as its elements), and a wait for the first one (past or future) that matches.
 */
async function watch(channel: string) {
  const raw = rawClient();
  const seen: Seen[] = [];
  const waiters: { test: (envelope: Seen) => boolean; resolve: (envelope: Seen) => void }[] = [];
  raw.on('message', (_channel: string, message: string) => {
    const value = JSON.parse(message) as Seen | Seen[];
    for (const envelope of Array.isArray(value) ? value : [value]) {
      seen.push(envelope);
      for (const waiter of [...waiters]) {
        if (!waiter.test(envelope)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(envelope);
      }
    }
  });
  await raw.subscribe(channel);
  return {
    seen,
    next(test: (envelope: Seen) => boolean): Promise<Seen> {
      const found = seen.find(test);
      if (found !== undefined) return Promise.resolve(found);
      const arrived = deferred<Seen>();
      waiters.push({
        test,
        resolve: (envelope) => {
          arrived.resolve(envelope);
        },
      });
      const timer = setTimeout(() => {
        arrived.reject(new Error(`nothing matching on ${channel}; seen ${JSON.stringify(seen)}`));
      }, 10_000);
      return arrived.promise.finally(() => {
        clearTimeout(timer);
      });
    },
  };
}

/** The finished span of `records` for the message `id` of `kind`. */
function spanOf(records: SpanRecord[], id: unknown, kind: number): SpanRecord {
  const found = records.find(
    (record) => record.kind === kind && record.attributes['messaging.message.id'] === id,
  );
  if (found === undefined) throw new Error(`no span of kind ${kind} for message ${String(id)}`);
  return found;
}

let exporter: InMemorySpanExporter | undefined;
const finished = (): SpanRecord[] => (exporter?.getFinishedSpans() ?? []).map(spanRecord);

describe('the trace context fields of an envelope', () => {
  const codec = new Codec({ maxMessageBytes: 1 << 20, maxNestingDepth: 200 });
  const decode = (fields: Record<string, unknown>): Envelope => {
    const envelope = codec.decode(
      Buffer.from(
        JSON.stringify({
          v: PROTOCOL_VERSION,
          id: 'm1',
          kind: 'tell',
          from: 'a',
          to: 'b',
          type: 't',
          sentAt: Date.now(),
          ...fields,
        }),
      ),
    );
    if (envelope instanceof Refusal) throw new Error(`refused: ${envelope.reason}`);
    return envelope;
  };

  it.each([
    ['a W3C traceparent', VALID, true],
    ['sampled off', `00-${TRACE_ID}-${SPAN_ID}-00`, true],
    ['garbage', 'garbage', false],
    ['10 kB', `${VALID}${'0'.repeat(10_000)}`, false],
    ['version 01', `01-${TRACE_ID}-${SPAN_ID}-01`, false],
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`, false],
    ['uppercase hex', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`, false],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`, false],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`, false],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`, false],
    ['a trailing space', `${VALID} `, false],
    ['a number', 42, false],
    ['an object', { traceId: TRACE_ID }, false],
  ])('traceparent, %s: kept %s; the message is accepted either way', (_label, value, kept) => {
    const envelope = decode({ traceparent: value, tracestate: 'vendor=1' });
    expect(envelope.traceparent).toBe(kept ? value : undefined);
    // A tracestate means nothing without its traceparent.
    expect(envelope.tracestate).toBe(kept ? 'vendor=1' : undefined);
  });

  it.each([
    ['one member', 'congo=t61rcWkgMzE', true],
    [
      'several, with spaces and an empty member',
      'rojo=00f067aa0ba902b7 , ,congo=t61rcWkgMzE',
      true,
    ],
    ['a multi-tenant key', 'tenant1@vendor=x', true],
    ['512 characters', `a=${'v'.repeat(254)},b=${'v'.repeat(253)}`, true],
    ['513 characters', `a=${'v'.repeat(254)},b=${'v'.repeat(254)}`, false],
    ['a value of 256 characters', `k=${'v'.repeat(256)}`, true],
    ['a value of 257 characters', `k=${'v'.repeat(257)}`, false],
    ['10 kB', `k=${'v'.repeat(10_000)}`, false],
    ['a control character', 'k=v\u0000', false],
    ['a tab', 'k=\tv', false],
    ['non-ASCII', 'k=vé', false],
    ['an uppercase key', 'Key=v', false],
    ['no value', 'k=', false],
    ['an = in the value', 'k=a=b', false],
    ['a duplicate key', 'k=1,k=2', false],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), false],
    ['32 members', Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','), true],
    ['only commas', ',,', false],
    ['a number', 7, false],
  ])('tracestate, %s: kept %s', (_label, value, kept) => {
    const envelope = decode({ traceparent: VALID, tracestate: value });
    expect(envelope.traceparent).toBe(VALID);
    expect(envelope.tracestate).toBe(kept ? value : undefined);
  });
});

describe('without a registered tracer provider', () => {
  it('no trace context is added to tells, asks or replies; a provider registered later is used from the next message', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    const client = await startSystem({ namespace });
    const ref = await server.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }));
    const toActor = await watch(`${namespace}:${ref.address}`);
    const toClient = await watch(`${namespace}:${client.address}`);

    await client.tell(ref.address, 'echo', 'told');
    expect(await client.ask(ref.address, 'echo', 'asked')).toBe('asked');
    const tell = await toActor.next((envelope) => envelope.body === 'told');
    const ask = await toActor.next((envelope) => envelope.body === 'asked');
    const reply = await toClient.next((envelope) => envelope.correlationId === ask.id);
    for (const envelope of [tell, ask, reply]) {
      expect(envelope).not.toHaveProperty('traceparent');
      expect(envelope).not.toHaveProperty('tracestate');
    }

    // Registered after both systems started: the next message is traced.
    exporter = registerSdk();
    await client.tell(ref.address, 'echo', 'traced');
    const traced = await toActor.next((envelope) => envelope.body === 'traced');
    const producer = spanOf(finished(), traced.id, PRODUCER);
    expect(traced.traceparent).toBe(`00-${producer.traceId}-${producer.spanId}-01`);
  });
});

describe('with the OpenTelemetry SDK registered in both processes', () => {
  beforeAll(() => {
    exporter ??= registerSdk();
  });
  afterAll(() => {
    unregisterSdk();
  });

  it('an ask to an actor in another process is one trace: its PRODUCER span here is the parent of, and linked from, the CONSUMER span there', async () => {
    const namespace = uniqueNamespace();
    const name = 'traced';
    const child = runTs('test/fixtures/tracing-responder.ts', [name], {
      REDIS_ACTORS_NAMESPACE: namespace,
    });
    await child.waitForLine(/^READY /);
    const client = await startSystem({ namespace });
    const toActor = await watch(`${namespace}:${name}`);
    const toClient = await watch(`${namespace}:${client.address}`);

    expect(await client.ask(name, 'echo', 'hello')).toBe('hello');
    await client.tell(name, 'note', 'a tell');
    await expect(client.ask(name, 'fail', 'boom')).rejects.toThrow(RemoteError);
    // In the context of a remote parent with a tracestate, as an HTTP server's handler would be.
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
      isRemote: true,
      traceState: createTraceState('vendor=abc,other=x'),
    });
    await context.with(remote, () => client.tell(name, 'note', 'with tracestate'));
    const theirs = await client.ask<SpanRecord[]>(name, 'spans');
    const ours = finished();

    const ask = await toActor.next((envelope) => envelope.type === 'echo');
    const producer = spanOf(ours, ask.id, PRODUCER);
    expect(producer).toMatchObject({
      name: `publish ${name}`,
      status: { code: 0 },
      attributes: {
        'messaging.system': 'redis-actors',
        'messaging.operation.type': 'publish',
        'messaging.destination.name': name,
        'messaging.message.id': ask.id,
        'messaging.message.conversation_id': ask.id,
      },
    });
    expect(ask.traceparent).toBe(`00-${producer.traceId}-${producer.spanId}-01`);
    const consumer = spanOf(theirs, ask.id, CONSUMER);
    expect(consumer).toMatchObject({
      name: `process ${name}`,
      traceId: producer.traceId,
      parentSpanId: producer.spanId,
      links: [{ traceId: producer.traceId, spanId: producer.spanId }],
      status: { code: 0 },
      attributes: {
        'messaging.system': 'redis-actors',
        'messaging.operation.type': 'process',
        'messaging.destination.name': name,
        'messaging.message.id': ask.id,
        'messaging.message.conversation_id': ask.id,
      },
    });
    // The reply carries the context of the span that answered.
    const reply = await toClient.next((envelope) => envelope.correlationId === ask.id);
    expect(reply.traceparent).toBe(`00-${consumer.traceId}-${consumer.spanId}-01`);

    const tell = await toActor.next((envelope) => envelope.body === 'a tell');
    const tellProducer = spanOf(ours, tell.id, PRODUCER);
    expect(tell.traceparent).toBe(`00-${tellProducer.traceId}-${tellProducer.spanId}-01`);
    expect(tellProducer.attributes).not.toHaveProperty('messaging.message.conversation_id');
    expect(spanOf(theirs, tell.id, CONSUMER)).toMatchObject({
      traceId: tellProducer.traceId,
      parentSpanId: tellProducer.spanId,
    });

    const failing = await toActor.next((envelope) => envelope.type === 'fail');
    expect(spanOf(theirs, failing.id, CONSUMER)).toMatchObject({
      status: { code: ERROR, message: 'boom' },
      events: ['exception'],
    });
    expect(spanOf(ours, failing.id, PRODUCER).status.code).toBe(ERROR);

    const stated = await toActor.next((envelope) => envelope.body === 'with tracestate');
    expect(stated.tracestate).toBe('vendor=abc,other=x');
    const statedProducer = spanOf(ours, stated.id, PRODUCER);
    expect(statedProducer).toMatchObject({ traceId: TRACE_ID, parentSpanId: SPAN_ID });
    expect(spanOf(theirs, stated.id, CONSUMER)).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: statedProducer.spanId,
      traceState: 'vendor=abc,other=x',
    });
  });

  it("a handler's own asks, after an await, are children of its CONSUMER span", async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    const client = await startSystem({ namespace });
    await server.spawn(
      defineActor({
        handlers: {
          relay: async (body: string, ctx) => {
            await Promise.resolve();
            return ctx.ask('inner', 'echo', body);
          },
        },
      }),
      { name: 'outer' },
    );
    await server.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), {
      name: 'inner',
    });

    expect(await client.ask('outer', 'relay', 'through')).toBe('through');
    const spans = finished();
    const outerProducer = spans.find((span) => span.name === 'publish outer');
    const outerConsumer = spans.find((span) => span.name === 'process outer');
    const innerProducer = spans.find((span) => span.name === 'publish inner');
    const innerConsumer = spans.find((span) => span.name === 'process inner');
    expect(outerConsumer?.parentSpanId).toBe(outerProducer?.spanId);
    expect(innerProducer?.parentSpanId).toBe(outerConsumer?.spanId);
    expect(innerConsumer?.parentSpanId).toBe(innerProducer?.spanId);
    expect(
      new Set([outerProducer, outerConsumer, innerProducer, innerConsumer].map((s) => s?.traceId)),
    ).toEqual(new Set([outerProducer?.traceId]));
  });

  it('a hostile traceparent or tracestate from a raw PUBLISH is dropped, and the message handled', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    const cases: [label: string, fields: Record<string, unknown>, parent: boolean][] = [
      ['garbage', { traceparent: 'garbage' }, false],
      ['10 kB', { traceparent: `${VALID}${'f'.repeat(10_000)}` }, false],
      ['wrong version', { traceparent: `01-${TRACE_ID}-${SPAN_ID}-01` }, false],
      ['all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${SPAN_ID}-01` }, false],
      ['an object', { traceparent: { toString: 'x' }, tracestate: ['a=b'] }, false],
      ['10 kB tracestate', { traceparent: VALID, tracestate: `a=${'b'.repeat(10_000)}` }, true],
      ['control characters', { traceparent: VALID, tracestate: 'a=\u001b[31m' }, true],
    ];
    const handled: string[] = [];
    const all = deferred();
    const ref = await server.spawn(
      defineActor({
        handlers: {
          record: (_: unknown, ctx) => {
            handled.push(ctx.message.id);
            if (handled.length === cases.length) all.resolve();
          },
        },
      }),
    );
    const raw = rawClient();
    for (const [label, fields] of cases) {
      const envelope = {
        v: PROTOCOL_VERSION,
        id: `raw-${label.replace(/\W/g, '-')}`,
        kind: 'tell',
        from: 'mallory',
        to: ref.address,
        type: 'record',
        sentAt: Date.now(),
        ...fields,
      };
      expect(await raw.publish(`${namespace}:${ref.address}`, JSON.stringify(envelope))).toBe(1);
    }
    await all.promise;
    expect(server.stats().invalidByReason).toEqual({});
    const spans = finished();
    for (const [label, , parent] of cases) {
      const consumer = spanOf(spans, `raw-${label.replace(/\W/g, '-')}`, CONSUMER);
      if (parent) {
        expect(consumer, label).toMatchObject({ traceId: TRACE_ID, parentSpanId: SPAN_ID });
        expect(consumer.traceState, label).toBeUndefined();
      } else {
        expect(consumer.parentSpanId, label).toBeUndefined();
        expect(consumer.links, label).toEqual([]);
      }
    }
  });

  it('through a durable mailbox too: the stream entry carries the context, and each CONSUMER span is a child of its PRODUCER span', async () => {
    const namespace = uniqueNamespace();
    const host = await startSystem({ namespace });
    const sender = await startSystem({ namespace });
    const handledTell = deferred<string>();
    await host.spawn(
      defineActor({
        handlers: {
          job: (_: unknown, ctx) => {
            handledTell.resolve(ctx.message.id);
          },
          echo: (body: unknown) => body,
        },
      }),
      { name: 'jobs', mailbox: { durable: true } },
    );
    await sender.tell('jobs', 'job', 1);
    const tellId = await handledTell.promise;
    expect(await sender.ask('jobs', 'echo', 'stored')).toBe('stored');
    const spans = finished();
    const askProducer = spans.find(
      (span) =>
        span.name === 'publish jobs' && span.attributes['redis_actors.message.type'] === 'echo',
    );
    for (const producer of [spanOf(spans, tellId, PRODUCER), askProducer]) {
      const id = producer?.attributes['messaging.message.id'];
      expect(spanOf(spans, id, CONSUMER)).toMatchObject({
        name: 'process jobs',
        traceId: producer?.traceId,
        parentSpanId: producer?.spanId,
      });
    }
  });

  it('with tracing: false, no spans and no trace context, provider or not', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace, tracing: false });
    const ref = await server.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }));
    const toActor = await watch(`${namespace}:${ref.address}`);
    expect(await server.ask(ref.address, 'echo', 'untraced')).toBe('untraced');
    const ask = await toActor.next((envelope) => envelope.body === 'untraced');
    expect(ask).not.toHaveProperty('traceparent');
    expect(finished().filter((span) => span.attributes['messaging.message.id'] === ask.id)).toEqual(
      [],
    );
  });
});

describe('tracing: true without @opentelemetry/api', () => {
  afterAll(() => {
    vi.doUnmock('@opentelemetry/api');
    vi.resetModules();
  });

  it("rejects with InvalidOptionError; 'auto' turns tracing off", async () => {
    vi.resetModules();
    vi.doMock('@opentelemetry/api', () => {
      throw Object.assign(new Error("Cannot find package '@opentelemetry/api'"), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    });
    const { loadTracing } = await import('../src/core/tracing.js');
    const logger = captureLogger();
    await expect(loadTracing(true, logger)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('npm install @opentelemetry/api') as unknown,
    });
    await expect(loadTracing('auto', logger)).resolves.toBeUndefined();
  });
});
