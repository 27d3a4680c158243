/**
 * The redis-ipc module against a real Redis: command queues, settings,
 * status, events and debug, in the wire format of redis-ipc's C library.
 * Keys are global (that is redis-ipc's way), so each test uses its own component names.
 */
import { nanoid } from 'nanoid';
import { describe, expect, it, onTestFinished } from 'vitest';
import { InvalidOptionError, ShuttingDownError, defineActor } from '../src/index.js';
import {
  CommandTimeoutError,
  DebugLevel,
  type IpcMessage,
  RedisIpc,
  type RedisIpcOptions,
  redisIpcSocketPath,
  serveActor,
} from '../src/redis-ipc/index.js';
import { captureLogger, deferred, rawClient, redisUrl, startSystem } from './helpers.js';

function component(base: string): string {
  return `${base}-${nanoid(8).replace(/[^\w]/g, 'x')}`;
}

async function connect(options: Partial<RedisIpcOptions> & { component: string }) {
  const logger = captureLogger();
  const ipc = await RedisIpc.connect({ url: redisUrl(), logger, ...options });
  onTestFinished(() => ipc.close());
  return Object.assign(ipc, { logged: logger.lines });
}

describe('redis-ipc on a Redis Cluster URL', () => {
  it('is refused with InvalidOptionError saying to give one node or a standalone Redis', async () => {
    const error = await RedisIpc.connect({
      component: 'printer',
      url: 'redis+cluster://user:secret@127.0.0.1:7000,127.0.0.1:7001',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(
      /does not run on a Redis Cluster .*give it the URL of one node/,
    );
    expect((error as Error).message).not.toContain('secret');
  });
});

describe('redis-ipc command queues', () => {
  it('sends commands in redis-ipc’s format and times out with CommandTimeoutError when nobody serves', async () => {
    const printer = component('printer');
    const client = await connect({ component: component('web'), thread: 'requestor' });
    const raw = rawClient();
    await expect(
      client.sendCommand(
        printer,
        { action: 'print', copies: 2 },
        { subqueue: 'print', timeoutMs: 300 },
      ),
    ).rejects.toBeInstanceOf(CommandTimeoutError);
    const [text] = await raw.lrange(`queues.commands.${printer}.print`, 0, -1);
    const command = JSON.parse(text ?? '{}') as IpcMessage;
    expect(command).toEqual({
      action: 'print',
      copies: 2,
      results_queue: `queues.results.${client.component}.requestor`,
      command_id: expect.stringMatching(
        new RegExp(`^${client.component}-requestor-${process.pid}-`),
      ) as unknown,
      timestamp: expect.stringMatching(/^\d{10}\.\d{6}$/) as unknown,
      component: client.component,
      thread: 'requestor',
      tid: process.pid,
    });
    // Field order as the C library writes it: the command, results_queue, command_id, common fields.
    expect(Object.keys(command).slice(2)).toEqual([
      'results_queue',
      'command_id',
      'timestamp',
      'component',
      'thread',
      'tid',
    ]);
  });

  it('serves the main queue and subqueues, with several commands in flight from one client', async () => {
    const printer = component('printer');
    const server = await connect({ component: printer });
    const client = await connect({ component: component('client') });
    await server.serveCommands(
      (command, context) => ({ echoed: command.n, subqueue: context.subqueue ?? null }),
      { subqueues: [undefined, 'print', 'cancel'] },
    );
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        client.sendCommand(printer, { n }, { subqueue: [undefined, 'print', 'cancel'][n % 3] }),
      ),
    );
    results.forEach((result, n) => {
      expect(result).toMatchObject({
        echoed: n,
        subqueue: [null, 'print', 'cancel'][n % 3],
        component: printer,
        thread: 'main',
        command_id: expect.any(String) as unknown,
      });
    });
    expect(client.stats()).toMatchObject({ commandsSent: 30, resultsDiscarded: 0 });
  });

  it('lets servers of one component compete, each command handled exactly once', async () => {
    const worker = component('worker');
    const handled: number[][] = [[], []];
    for (const list of handled) {
      const server = await connect({ component: worker });
      await server.serveCommands((command) => {
        list.push(command.n as number);
        return { ok: true };
      });
    }
    const client = await connect({ component: component('client') });
    await Promise.all(Array.from({ length: 200 }, (_, n) => client.sendCommand(worker, { n })));
    const all = [...(handled[0] ?? []), ...(handled[1] ?? [])].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 200 }, (_, n) => n));
  });

  it('discards results for other command ids, as redis-ipc does, and counts them', async () => {
    const slow = component('slow');
    const client = await connect({ component: component('client') });
    const raw = rawClient();
    const release = deferred();
    const server = await connect({ component: slow });
    await server.serveCommands(async () => {
      await release.promise;
      return { mine: true };
    });
    const answer = client.sendCommand(slow, {});
    // A stale result (another command's) lands first on the client's results queue.
    await raw.rpush(
      `queues.results.${client.component}.main`,
      JSON.stringify({ stale: true, command_id: 'someone-else-1' }),
    );
    await expect.poll(() => client.stats().resultsDiscarded).toBe(1);
    release.resolve();
    expect(await answer).toMatchObject({ mine: true });
    expect(client.logged.join('\n')).toMatch(/someone-else-1/);
  });

  it('drops bad entries, answers those it can, and keeps serving', async () => {
    const strict = component('strict');
    const server = await connect({ component: strict });
    const commands = await server.serveCommands((command) => {
      if (command.fail === true) throw Object.assign(new Error('no paper'), { code: 'ENOPAPER' });
      return { ok: true };
    });
    const raw = rawClient();
    const queue = `queues.commands.${strict}`;
    const resultsOfRaw = `queues.results.raw-${strict}.main`;
    await raw.rpush(queue, 'not json at all');
    await raw.rpush(queue, '[1, 2, 3]');
    await raw.rpush(queue, JSON.stringify({ results_queue: 'settings.victim', command_id: 'x-1' }));
    // Truncated JSON that still names where to answer.
    await raw.rpush(queue, `{"results_queue": "${resultsOfRaw}", "command_id": "raw-7", "oops`);
    const client = await connect({ component: component('client') });
    expect(await client.sendCommand(strict, {})).toMatchObject({ ok: true });
    expect(await client.sendCommand(strict, { fail: true })).toMatchObject({
      error: 'no paper',
      code: 'ENOPAPER',
    });
    const answered = await raw.blpop(resultsOfRaw, 5);
    expect(JSON.parse(answered?.[1] ?? '{}')).toMatchObject({
      error: expect.stringMatching(/invalid command: not JSON/) as unknown,
      command_id: 'raw-7',
    });
    expect(await raw.exists('settings.victim')).toBe(0);
    expect(commands.stats()).toEqual({ served: 1, failed: 1, invalid: 4 });
    expect(server.logged.join('\n')).toMatch(/dropped an entry of queues\.commands\./);
  });

  it('finishes the command in hand on stop, and rejects waiting commands on close', async () => {
    const busy = component('busy');
    const server = await connect({ component: busy });
    const started = deferred();
    const finish = deferred();
    const commands = await server.serveCommands(async () => {
      started.resolve();
      await finish.promise;
      return { finished: true };
    });
    const client = await connect({ component: component('client') });
    const answer = client.sendCommand(busy, {}, { timeoutMs: 10_000 });
    await started.promise;
    const stopped = commands.stop();
    finish.resolve();
    await stopped;
    expect(await answer).toMatchObject({ finished: true });
    const orphan = expect(
      client.sendCommand(busy, {}, { timeoutMs: 10_000 }),
    ).rejects.toBeInstanceOf(ShuttingDownError);
    await client.close();
    await orphan;
  });

  it('exposes an actor’s handlers as a redis-ipc component', async () => {
    const system = await startSystem();
    await system.spawn(
      defineActor({
        handlers: {
          print: (body: { file: string }) => ({ 'job-id': `job-${body.file}` }),
          cancel: (body: { 'job-id': string }) => `cancelled ${body['job-id']}`,
          jam: () => {
            throw new Error('paper jam');
          },
        },
      }),
      { name: 'printer-actor' },
    );
    const printer = component('printer');
    const ipc = await connect({ component: printer });
    await serveActor(ipc, system, 'printer-actor', { subqueues: [undefined, 'cancel'] });
    const client = await connect({ component: component('client') });
    expect(await client.sendCommand(printer, { command: 'print', file: 'a.txt' })).toMatchObject({
      'job-id': 'job-a.txt',
    });
    // On a subqueue the subqueue names the type.
    expect(
      await client.sendCommand(printer, { 'job-id': 'job-a.txt' }, { subqueue: 'cancel' }),
    ).toMatchObject({ result: 'cancelled job-a.txt' });
    expect(await client.sendCommand(printer, { command: 'jam' })).toMatchObject({
      error: expect.stringMatching(/paper jam/) as unknown,
      code: 'REMOTE_ERROR',
    });
  });
});

describe('redis-ipc settings and status', () => {
  it('writes fields as strings, whole or one at a time, and reads them back typed', async () => {
    const printer = component('printer');
    const ipc = await connect({ component: printer });
    await ipc.settings().setAll({ paper: 'A4', copies: 2, duplex: true, margins: [10, 12] });
    await ipc.settings().set('copies', 3);
    const raw = rawClient();
    expect(await raw.hgetall(`settings.${printer}`)).toEqual({
      paper: 'A4',
      copies: '3',
      duplex: 'true',
      margins: '[10,12]',
    });
    const reader = await connect({ component: component('panel') });
    const settings = reader.settings(printer);
    expect(await settings.getAll()).toEqual({
      paper: 'A4',
      copies: '3',
      duplex: 'true',
      margins: '[10,12]',
    });
    expect(await settings.get('paper')).toBe('A4');
    expect(await settings.get('missing')).toBeUndefined();
    expect(await settings.getNumber('copies')).toBe(3);
    expect(await settings.getBoolean('duplex')).toBe(true);
    expect(await settings.getJson('margins')).toEqual([10, 12]);
    await expect(settings.getNumber('paper')).rejects.toThrow(/not a number/);
    await expect(ipc.settings().set('bad', Number.NaN)).rejects.toThrow(/cannot be stored/);

    await ipc.status().setAll({ state: 'idle', jobs: 0 });
    expect(await reader.status(printer).getAll()).toEqual({ state: 'idle', jobs: '0' });
  });
});

describe('redis-ipc events and debug', () => {
  it('publishes events with channel and common fields; listeners pick by component, subchannel, or both', async () => {
    const printer = component('printer');
    const scanner = component('scanner');
    const listener = await connect({ component: component('panel') });
    const seen: Record<string, string[]> = { printer: [], warnings: [], both: [], all: [] };
    const record = (key: string) => (event: IpcMessage) => {
      (seen[key] as string[]).push(String(event.text));
    };
    await listener.subscribeEvents({ component: printer }, record('printer'));
    await listener.subscribeEvents({ subchannel: 'warnings' }, record('warnings'));
    await listener.subscribeEvents({ component: printer, subchannel: 'warnings' }, record('both'));
    const everything = deferred<IpcMessage>();
    await listener.subscribeEvents({}, (event, origin) => {
      (seen.all as string[]).push(String(event.text));
      if (event.text === 'last') everything.resolve({ ...event, origin });
    });
    const printerIpc = await connect({ component: printer });
    const scannerIpc = await connect({ component: scanner });
    // Garbage on an event channel is dropped and counted; the rest still arrives.
    await rawClient().publish(`channel.events.${printer}`, 'garbage');
    await printerIpc.publishEvent({ text: 'printer plain' });
    await printerIpc.publishEvent({ text: 'printer warning' }, { subchannel: 'warnings' });
    await scannerIpc.publishEvent({ text: 'scanner warning' }, { subchannel: 'warnings' });
    await scannerIpc.publishEvent({ text: 'last' });
    const last = await everything.promise;
    expect(last).toMatchObject({
      text: 'last',
      channel: `channel.events.${scanner}`,
      component: scanner,
      thread: 'main',
      tid: process.pid,
      timestamp: expect.stringMatching(/^\d+\.\d{6}$/) as unknown,
      origin: { channel: `channel.events.${scanner}`, component: scanner, subchannel: undefined },
    });
    expect(seen).toEqual({
      printer: ['printer plain', 'printer warning'],
      warnings: ['printer warning', 'scanner warning'],
      both: ['printer warning'],
      all: ['printer plain', 'printer warning', 'scanner warning', 'last'],
    });
    expect(listener.stats().invalidReceived).toBeGreaterThanOrEqual(1);
  });

  it('sends debug messages at or below the verbosity', async () => {
    const noisy = component('noisy');
    const listener = await connect({ component: component('console') });
    const received: IpcMessage[] = [];
    const gotLast = deferred();
    await listener.subscribeDebug({ component: noisy }, (message) => {
      received.push(message);
      if (message.message === 'last') gotLast.resolve();
    });
    const ipc = await connect({ component: noisy, debugVerbosity: DebugLevel.INFO });
    expect(await ipc.debug('too chatty', DebugLevel.NOISY)).toBe(false);
    expect(await ipc.debug('paper low', DebugLevel.WARN)).toBe(true);
    expect(await ipc.debug('last')).toBe(true);
    await gotLast.promise;
    expect(received.map((message) => [message.message, message.level])).toEqual([
      ['paper low', DebugLevel.WARN],
      ['last', DebugLevel.INFO],
    ]);
    expect(received[0]).toMatchObject({ channel: `channel.debug.${noisy}`, component: noisy });
    expect(ipc.stats().debugSuppressed).toBe(1);
  });
});

describe('redis-ipc connection defaults', () => {
  it('finds redis-ipc’s socket as the C library and the Python module do', () => {
    expect(redisIpcSocketPath({})).toMatch(/redis-ipc\/socket$/);
    expect(redisIpcSocketPath({ RIPC_RUNTIME_DIR: '/run/x' })).toBe('/run/x/redis-ipc/socket');
    expect(
      redisIpcSocketPath({ RIPC_SERVER_PATH: '/var/ripc.sock', RIPC_RUNTIME_DIR: '/run/x' }),
    ).toBe('/var/ripc.sock');
  });
});
