/**
 * Poison at every kind of listener: each payload is refused (counted, logged
 * at most once per reason), nothing reaches uncaughtException, no prototype is
 * polluted, and the listener still works afterwards.
 */
import { nanoid } from 'nanoid';
import { describe, expect, it } from 'vitest';
import { InvalidMessageError, type MonitorEvent, defineActor } from '../../src/index.js';
import { RedisIpc } from '../../src/redis-ipc/index.js';
import {
  captureLogger,
  deferred,
  rawClient,
  redisUrl,
  startSystem,
  uniqueNamespace,
} from '../helpers.js';
import {
  constructorPrototype,
  deepArray,
  deepObject,
  escapedProto,
  poisonEnvelopes,
  prototypePolluted,
} from './poison.js';

/** Raw JSON values a stranger may publish where plain JSON is expected. */
const poisonValues: [label: string, json: string][] = [
  ['a deep array holding "__proto__"', deepArray()],
  ['a deep object', deepObject()],
  ['a deep array holding "$date"', deepArray().replace('"__proto__"', '{"$date":"x"}')],
  ['an escaped own __proto__ key', escapedProto],
  ['a constructor.prototype tree', constructorPrototype],
];

describe('poison at every listener', () => {
  it('a mailbox refuses each poisonous envelope by reason and keeps serving', async () => {
    const namespace = uniqueNamespace();
    const logger = captureLogger();
    const server = await startSystem({ namespace, logger });
    const client = await startSystem({ namespace });
    const handled: unknown[] = [];
    const ref = await server.spawn(
      defineActor({
        handlers: {
          record: (body: unknown) => {
            handled.push(body);
          },
          echo: (body: unknown) => body,
        },
      }),
    );
    const raw = rawClient();
    const expected: Record<string, number> = {};
    for (const [label, reason, payload] of poisonEnvelopes(ref.address)) {
      expect(await raw.publish(`${namespace}:${ref.address}`, payload), label).toBe(1);
      expected[reason] = (expected[reason] ?? 0) + 1;
      expect(await client.ask(ref.address, 'echo', label), label).toBe(label);
    }
    expect(handled).toEqual([]);
    expect(server.stats().invalidByReason).toEqual(expected);
    for (const reason of Object.keys(expected)) {
      expect(logger.lines.filter((line) => line.includes(`(${reason}:`))).toHaveLength(1);
    }
    expect(prototypePolluted()).toBe(false);
  });

  it('a monitor shows poison as refused and keeps watching', async () => {
    const namespace = uniqueNamespace();
    const watcher = await startSystem({ namespace });
    const events: MonitorEvent[] = [];
    const sawLast = deferred();
    await watcher.monitor((event) => {
      events.push(event);
      if (event.text === '"last"') sawLast.resolve();
    });
    const raw = rawClient();
    const poisons = poisonEnvelopes('anyone');
    for (const [, , payload] of poisons) await raw.publish(`${namespace}:anyone`, payload);
    await raw.publish(`${namespace}:anyone`, '"last"');
    await sawLast.promise;
    expect(events).toHaveLength(poisons.length + 1);
    for (const [index, [label, reason]] of poisons.entries()) {
      expect(events[index]?.envelope, label).toBeUndefined();
      expect(events[index]?.problem, label).toMatch(new RegExp(`^${reason}`));
      // What the monitor shows of the raw text is bounded.
      expect(events[index]?.text?.length ?? 0, label).toBeLessThanOrEqual(4097);
    }
  });

  it('a topic subscriber gets poison as invalid, never as a value, and keeps receiving', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const topic = system.topic('lobby');
    const values: unknown[] = [];
    const problems: string[] = [];
    const sawLast = deferred();
    await topic.subscribe(
      (value) => {
        values.push(value);
        if (value === 'last') sawLast.resolve();
      },
      (_raw, problem) => problems.push(problem),
    );
    const raw = rawClient();
    for (const [, json] of poisonValues) await raw.publish(topic.channel, json);
    await raw.publish(topic.channel, '"last"');
    await sawLast.promise;
    expect(values).toEqual(['last']);
    expect(problems).toHaveLength(poisonValues.length);
    for (const problem of problems) expect(problem).toMatch(/too deep|unsafe key/);
    expect(prototypePolluted()).toBe(false);
  });

  it('a shared-values watcher ignores poisonous notifications; get refuses poisonous values', async () => {
    const namespace = uniqueNamespace();
    const logger = captureLogger();
    const system = await startSystem({ namespace, logger });
    const values = system.values<{ angle: number; poisoned: unknown }>('model');
    const seen: unknown[] = [];
    const sawGood = deferred();
    await values.watch('angle', (value) => {
      seen.push(value);
      sawGood.resolve();
    });
    const raw = rawClient();
    for (const [, json] of poisonValues) {
      await raw.publish(values.channel, `{"version":99,"values":{"angle":${json}}}`);
      await raw.publish(values.channel, json);
    }
    await values.set('angle', 1.5);
    await sawGood.promise;
    expect(seen).toEqual([1.5]);
    for (const [label, json] of poisonValues) {
      await raw.hset(values.key, 'poisoned', json);
      const error = await values.get('poisoned').catch((e: unknown) => e);
      expect(error, label).toBeInstanceOf(InvalidMessageError);
      await expect(values.getMany(['angle', 'poisoned']), label).rejects.toBeInstanceOf(
        InvalidMessageError,
      );
      // Reading everything leaves out (and logs) what redis-actors never stores.
      expect(await values.getAll(), label).toEqual({ angle: 1.5 });
    }
    expect(logger.lines.filter((line) => line.includes('values-refused'))).toHaveLength(1);
    expect(prototypePolluted()).toBe(false);
  });

  it('redis-ipc events, debug and command queues refuse poison and keep serving', async () => {
    const component = `c${nanoid(8).replace(/[^\w]/g, 'x')}`;
    const logger = captureLogger();
    const server = await RedisIpc.connect({ url: redisUrl(), component, logger });
    const client = await RedisIpc.connect({ url: redisUrl(), component: `${component}c`, logger });
    try {
      const events: unknown[] = [];
      const debug: unknown[] = [];
      const sawEvent = deferred();
      const sawDebug = deferred();
      await client.subscribeEvents({ component }, (event) => {
        events.push(event.n);
        sawEvent.resolve();
      });
      await client.subscribeDebug({ component }, (message) => {
        debug.push(message.message);
        sawDebug.resolve();
      });
      const commands: unknown[] = [];
      await server.serveCommands((command) => {
        commands.push(command.n);
        return { ok: true };
      });
      const raw = rawClient();
      for (const [, json] of poisonValues) {
        await raw.publish(`channel.events.${component}`, json);
        await raw.publish(`channel.debug.${component}`, json);
        await raw.rpush(`queues.commands.${component}`, json);
        await raw.rpush(
          `queues.commands.${component}`,
          `{"results_queue":"queues.results.${component}c.main","command_id":${json}}`,
        );
      }
      await server.publishEvent({ n: 1 });
      await server.debug('fine');
      expect(await client.sendCommand(component, { n: 2 })).toMatchObject({ ok: true });
      await Promise.all([sawEvent.promise, sawDebug.promise]);
      expect(events).toEqual([1]);
      expect(debug).toEqual(['fine']);
      expect(commands).toEqual([2]);
      expect(client.stats().invalidReceived).toBe(2 * poisonValues.length);
      expect(prototypePolluted()).toBe(false);
    } finally {
      await Promise.all([server.close(), client.close()]);
    }
  });

  it('a listener that throws is counted and logged, and its channel keeps delivering', async () => {
    const namespace = uniqueNamespace();
    const logger = captureLogger();
    const system = await startSystem({ namespace, logger });
    const topic = system.topic('throwing');
    const seen: unknown[] = [];
    const sawSecond = deferred();
    await topic.subscribe((value) => {
      seen.push(value);
      if (value === 1) throw new Error('listener bug');
      sawSecond.resolve();
    });
    await topic.publish(1);
    await topic.publish(2);
    await sawSecond.promise;
    expect(seen).toEqual([1, 2]);
    expect(system.stats().invalidByReason['listener-threw']).toBe(1);
    expect(logger.lines.some((line) => line.includes('listener bug'))).toBe(true);
  });
});
