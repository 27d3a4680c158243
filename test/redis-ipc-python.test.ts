/**
 * Interop with a redis-ipc peer written in Python (test/fixtures/redis_ipc_peer.py,
 * on Debian's python3-redis): both directions of command queues, settings and
 * status written by one side and read by the other, events and debug messages.
 */
import { nanoid } from 'nanoid';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type IpcMessage, RedisIpc } from '../src/redis-ipc/index.js';
import { type Child, captureLogger, deferred, redisUrl, runCommand } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const PEER = 'test/fixtures/redis_ipc_peer.py';

function python(...args: string[]): Child {
  return runCommand(PYTHON, [PEER, ...args]);
}

/** Runs the peer to completion; its stdout lines. */
async function pythonDone(...args: string[]): Promise<string[]> {
  const peer = python(...args);
  const { code } = await peer.exited;
  if (code !== 0)
    throw new Error(`python peer ${args.join(' ')} exited ${code}:\n${peer.lines.join('\n')}`);
  return peer.stdout;
}

function component(base: string): string {
  return `${base}-${nanoid(8).replace(/[^\w]/g, 'x')}`;
}

async function connect(name: string): Promise<RedisIpc> {
  const ipc = await RedisIpc.connect({ component: name, url: redisUrl(), logger: captureLogger() });
  onTestFinished(() => ipc.close());
  return ipc;
}

function jsonAfter(prefix: string, line: string): IpcMessage {
  return JSON.parse(line.slice(prefix.length)) as IpcMessage;
}

describe('redis-ipc interop with Python', () => {
  it('answers a Python client’s commands from a redis-actors server', async () => {
    const printer = component('printer');
    const ipc = await connect(printer);
    await ipc.serveCommands(
      (command, context) => ({
        'job-id': `job-${String(command.file)}`,
        subqueue: context.subqueue ?? null,
      }),
      { subqueues: [undefined, 'print'] },
    );
    const [line] = await pythonDone('client', 'pyclient', printer, '{"file": "a.txt"}', 'print');
    const result = jsonAfter('RESULT ', line ?? '');
    expect(result).toMatchObject({
      'job-id': 'job-a.txt',
      subqueue: 'print',
      component: printer,
      thread: 'main',
    });
    // The Python client's command_id form, echoed back as it was.
    expect(result.command_id).toMatch(/^pyclient:\d+:\d+\.\d+$/);
  });

  it('sends commands a Python server answers', async () => {
    const service = component('pyservice');
    const server = python('server', service, '2', 'jobs');
    await server.waitForLine(/^READY$/);
    const ipc = await connect(component('tsclient'));
    const first = await ipc.sendCommand(
      service,
      { action: 'scan', dpi: 300 },
      { subqueue: 'jobs' },
    );
    const second = await ipc.sendCommand(
      service,
      { action: 'scan', dpi: 600 },
      { subqueue: 'jobs' },
    );
    expect(first).toMatchObject({ served_by: 'python', received: { action: 'scan', dpi: 300 } });
    expect(second).toMatchObject({ received: { dpi: 600, component: ipc.component } });
    expect((await server.exited).code).toBe(0);
  });

  it('shares settings and status both ways', async () => {
    const printer = component('printer');
    const ipc = await connect(printer);
    await pythonDone('hset', `settings.${printer}`, 'paper', 'A4', 'copies', '2');
    expect(await ipc.settings().getAll()).toEqual({ paper: 'A4', copies: '2' });
    expect(await ipc.settings().getNumber('copies')).toBe(2);
    await ipc.status().setAll({ state: 'printing', queued: 3, online: true });
    const [line] = await pythonDone('hgetall', `status.${printer}`);
    expect(jsonAfter('HASH ', line ?? '')).toEqual({
      state: 'printing',
      queued: '3',
      online: 'true',
    });
  });

  it('delivers events and debug messages both ways', async () => {
    const printer = component('printer');
    const pyComponent = component('pysensor');
    // Python listens to our events and debug messages.
    const listener = python('listen', `channel.*.${printer}*`, '2');
    await listener.waitForLine(/^READY$/);
    const ipc = await connect(printer);
    await ipc.publishEvent({ severity: 'warning', pages_remaining: 3 }, { subchannel: 'warnings' });
    await ipc.debug('paper low', 2);
    const [eventLine, debugLine] = await listener.waitForLines(/^MESSAGE /, 2);
    const [, eventChannel, eventJson] = /^MESSAGE (\S+) (.*)$/.exec(eventLine ?? '') ?? [];
    expect(eventChannel).toBe(`channel.events.${printer}.warnings`);
    expect(JSON.parse(eventJson ?? '{}')).toMatchObject({
      severity: 'warning',
      pages_remaining: 3,
      channel: `channel.events.${printer}.warnings`,
      component: printer,
    });
    expect(JSON.parse(/^MESSAGE \S+ (.*)$/.exec(debugLine ?? '')?.[1] ?? '{}')).toMatchObject({
      message: 'paper low',
      level: 2,
      channel: `channel.debug.${printer}`,
    });

    // We listen to Python's.
    const events: IpcMessage[] = [];
    const gotEvent = deferred();
    await ipc.subscribeEvents({ component: pyComponent }, (event) => {
      events.push(event);
      gotEvent.resolve();
    });
    const gotDebug = deferred<IpcMessage>();
    await ipc.subscribeDebug({ component: pyComponent }, (message) => {
      gotDebug.resolve(message);
    });
    await pythonDone('event', pyComponent, 'temperature', '{"celsius": 41.5}');
    await pythonDone('debug', pyComponent, '3', 'sensor warmed up');
    await gotEvent.promise;
    expect(events[0]).toMatchObject({
      celsius: 41.5,
      channel: `channel.events.${pyComponent}.temperature`,
      component: pyComponent,
    });
    expect(await gotDebug.promise).toMatchObject({ message: 'sensor warmed up', level: 3 });
  });
});
