import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, ConnectionError, defineActor } from '../src/index.js';
import { StandaloneTransport as Transport } from '../src/transport/standalone-transport.js';
import {
  captureLogger,
  deferred,
  freePort,
  rawClient,
  redisUrl,
  startOwnRedis,
  startSystem,
  uniqueNamespace,
} from './helpers.js';

const echo = defineActor({ handlers: { echo: (body: unknown) => body } });

async function roundTrip(url: string, extra: Parameters<typeof ActorSystem.start>[0] = {}) {
  const namespace = uniqueNamespace();
  const server = await startSystem({ url, namespace, ...extra });
  const client = await startSystem({ url, namespace, ...extra });
  await server.spawn(echo, { name: 'echo' });
  return client.ask('echo', 'echo', { over: url.split(':')[0] });
}

function connect(url = redisUrl()): Promise<Transport> {
  return Transport.connect({
    url,
    clientName: 'test-transport',
    connectTimeoutMs: 2000,
    maxOfflineCommands: 1000,
    maxReconnectDelayMs: 200,
    healthCheckIntervalMs: 500,
    healthCheckTimeoutMs: 2000,
  });
}

describe('transport', () => {
  it('works over a unix socket URL', async () => {
    expect(redisUrl()).toMatch(/^unix:\/\//);
    expect(await roundTrip(redisUrl())).toEqual({ over: 'unix' });
  });

  it('works over redis:// with a password and a database number', async () => {
    const port = await freePort();
    await startOwnRedis({ port, args: ['--requirepass', 's3cret'] });
    expect(await roundTrip(`redis://:s3cret@127.0.0.1:${port}/2`)).toEqual({ over: 'redis' });
    const error = await ActorSystem.start({ url: `redis://:wrong@127.0.0.1:${port}` }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).not.toContain('wrong');
  });

  it('works over rediss:// (TLS) with a private CA', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    const port = await freePort();
    await startOwnRedis({
      args: [
        '--tls-port',
        String(port),
        '--tls-cert-file',
        cert,
        '--tls-key-file',
        key,
        '--tls-ca-cert-file',
        cert,
        '--tls-auth-clients',
        'no',
      ],
    });
    const ca = fs.readFileSync(cert);
    expect(await roundTrip(`rediss://localhost:${port}`, { tls: { ca } })).toEqual({
      over: 'rediss',
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports an unreachable Redis as ConnectionError naming the URL, password hidden', async () => {
    const missing = 'unix:///nonexistent/redis-actors-test.sock';
    const error = await ActorSystem.start({ url: missing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain(missing);
    const port = await freePort();
    const refused = await ActorSystem.start({ url: `redis://:hunter2@127.0.0.1:${port}` }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ConnectionError);
    expect((refused as Error).message).toContain(`redis://:***@127.0.0.1:${port}`);
    expect((refused as Error).message).not.toContain('hunter2');
  });

  it('a server in protected mode (DENIED to every command) is a ConnectionError saying what to do', async () => {
    const net = await import('node:net');
    // What redis-server in protected mode does to a client from another machine.
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.end(
          '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.\r\n',
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      server.close();
    });
    const { port } = server.address() as import('node:net').AddressInfo;
    const error = await ActorSystem.start({ url: `redis://127.0.0.1:${port}` }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/protected mode.*Set one \(requirepass/);
  });

  it('batches the commands of one event-loop turn into few writes', async () => {
    const transport = await connect();
    try {
      const before = transport.state.writes;
      const replies = await Promise.all(
        Array.from(
          { length: 1000 },
          (_, i) =>
            new Promise<number>((resolve, reject) => {
              transport.publish(`nobody-listens-${i}`, 'x', (error, receivers) => {
                if (error === null) resolve(receivers);
                else reject(error);
              });
            }),
        ),
      );
      expect(replies).toEqual(Array(1000).fill(0));
      // ~45 KB of commands: written as soon as 16 KB wait, the rest at the end of the turn.
      expect(transport.state.writes - before).toBeLessThanOrEqual(4);
    } finally {
      await transport.close();
    }
  });

  it('merges consecutive mergeable publishes to one channel into one message, in order', async () => {
    const namespace = uniqueNamespace();
    const transport = await Transport.connect({
      url: redisUrl(),
      clientName: 'test-merge',
      connectTimeoutMs: 2000,
      maxOfflineCommands: 1000,
      maxReconnectDelayMs: 200,
      healthCheckIntervalMs: 500,
      healthCheckTimeoutMs: 2000,
      combinePublishes: (payloads) => `[${payloads.join(',')}]`,
    });
    const raw = rawClient().duplicate();
    const messages: string[] = [];
    const three = deferred();
    raw.on('message', (_channel: string, message: string) => {
      messages.push(message);
      if (messages.length === 3) three.resolve();
    });
    await raw.subscribe(`${namespace}:a`, `${namespace}:b`);
    try {
      const receivers = await Promise.all(
        ['1', '2', '3', '4'].map(
          (payload, i) =>
            new Promise<number>((resolve) => {
              // a, a, b, a: b breaks the run, so a's publishes travel in two messages.
              const channel = `${namespace}:${i === 2 ? 'b' : 'a'}`;
              transport.publishMergeable(channel, payload, (_error, count) => {
                resolve(count);
              });
            }),
        ),
      );
      await three.promise;
      expect(receivers).toEqual([1, 1, 1, 1]);
      expect(messages).toEqual(['[1,2]', '3', '4']);
    } finally {
      raw.disconnect();
      await transport.close();
    }
  });

  it('runs ordinary commands and reports their errors', async () => {
    const transport = await connect();
    try {
      const key = `${uniqueNamespace()}:k`;
      expect(await transport.command(['SET', key, 'v', 'PX', '10000'])).toBe('OK');
      expect((await transport.command(['GET', key]))?.toString()).toBe('v');
      await expect(transport.command(['NOSUCHCOMMAND'])).rejects.toThrow(/unknown command/i);
      expect(await transport.command(['DEL', key])).toBe(1);
    } finally {
      await transport.close();
    }
  });

  it('resubscribes every mailbox after its subscriber connection is killed', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace, logger: captureLogger() });
    const client = await startSystem({ namespace });
    await server.spawn(echo, { name: 'survivor' });
    const raw = rawClient();
    const list = (await raw.client('LIST')) as string;
    const id = /id=(\d+) [^\n]*name=[^ ]*:sub /.exec(
      list.split('\n').find((line) => line.includes(`name=${namespace}:${server.address}:sub`)) ??
        '',
    )?.[1];
    expect(id).toBeDefined();
    const restored = new Promise((resolve) =>
      server.once('connection-restored', () => {
        resolve(undefined);
      }),
    );
    const lost = new Promise((resolve) =>
      server.once('connection-lost', () => {
        resolve(undefined);
      }),
    );
    await raw.client('KILL', 'ID', id as string);
    await lost;
    await restored;
    expect(server.stats().subscribed).toBe(true);
    expect(await client.ask('survivor', 'echo', 'back')).toBe('back');
    expect(await client.ask(server.address, 'echo', 'by address')).toBe('by address');
  });
});
