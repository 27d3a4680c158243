/**
 * TLS for the whole tree: redis-servers that speak only TLS (no plain port),
 * with a private CA made here by openssl. An actor system given the CA, a
 * supervisor process given REDIS_URL=rediss://… and REDIS_ACTORS_TLS_CA, its
 * children, and the CLI with --tls-ca all get through, with no warning; without
 * the CA (or with another one) the connection fails with a ConnectionError that
 * says how to give it. With --tls-auth-clients yes, a client certificate and
 * key reach the children too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  ActorSystem,
  ConnectionError,
  InvalidOptionError,
  Supervisor,
  defineActor,
  type ActorSystemOptions,
} from '../../src/index.js';
import { tlsEnvironment, tlsFromEnvironment } from '../../src/transport/tls.js';
import {
  assertBuildIsCurrent,
  captureLogger,
  freePort,
  runCommand,
  runTs,
  startOwnRedis,
  uniqueNamespace,
} from '../helpers.js';
import { CLIENT_KEY_PASSPHRASE, type Pki, makePki, tlsSupport } from './pki.js';

const WORKER = 'test/fixtures/worker.ts';
/** What a process must never print while connecting over TLS. */
const WARNING = /DeprecationWarning|Warning:|self[- ]signed|unable to verify/i;

const support = tlsSupport();

describe.skipIf(!support.ok)(
  `TLS for the whole tree${support.ok ? '' : ` (skipped: ${support.reason})`}`,
  () => {
    let pkiDir: string | undefined;
    let pki: Pki;
    let caText: string;
    beforeAll(() => {
      pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-tls-'));
      pki = makePki(pkiDir);
      caText = fs.readFileSync(pki.ca, 'utf8');
    });
    afterAll(() => {
      // Even when openssl failed half-way.
      if (pkiDir !== undefined) fs.rmSync(pkiDir, { recursive: true, force: true });
    });

    /** A redis-server of this test that listens on a TLS port only; its port. */
    async function tlsRedis(authClients: 'yes' | 'no' = 'no'): Promise<number> {
      const port = await freePort();
      await startOwnRedis({
        args: [
          '--tls-port',
          String(port),
          '--tls-cert-file',
          pki.serverCert,
          '--tls-key-file',
          pki.serverKey,
          '--tls-ca-cert-file',
          pki.ca,
          '--tls-auth-clients',
          authClients,
        ],
      });
      return port;
    }

    async function start(options: ActorSystemOptions) {
      const system = await ActorSystem.start({
        namespace: uniqueNamespace(),
        logger: captureLogger(),
        connectTimeoutMs: 5000,
        ...options,
      });
      onTestFinished(() => system.stop());
      return system;
    }

    /** The error ActorSystem.start fails with. */
    async function startFailure(options: ActorSystemOptions): Promise<Error> {
      const system = await start(options).catch((error: unknown) => error as Error);
      if (system instanceof ActorSystem) throw new Error('connected without a trusted CA');
      return system;
    }

    it('an actor system given the CA by option talks over rediss://127.0.0.1 and rediss://localhost, with no warning', async () => {
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
      process.on('warning', onWarning);
      onTestFinished(() => {
        process.off('warning', onWarning);
      });
      const port = await tlsRedis();
      for (const host of ['127.0.0.1', 'localhost']) {
        const url = `rediss://${host}:${port}`;
        const server = await start({ url, tls: { ca: caText } });
        await server.spawn(defineActor({ handlers: { echo: (body: string) => body } }), {
          name: 'echo',
        });
        const client = await start({ url, namespace: server.namespace, tls: { ca: caText } });
        expect(await client.ask('echo', 'echo', `over ${host}`)).toBe(`over ${host}`);
      }
      expect(warnings).toEqual([]);
    });

    it('a supervisor process started with REDIS_URL=rediss:// and REDIS_ACTORS_TLS_CA (a file) gives its children TLS', async () => {
      const port = await tlsRedis();
      const url = `rediss://127.0.0.1:${port}`;
      const namespace = uniqueNamespace();
      const config = { children: ['w1', 'w2'].map((name) => ({ name, module: WORKER })) };
      const tree = runTs('test/fixtures/supervisor-main.ts', [JSON.stringify(config)], {
        REDIS_URL: url,
        REDIS_ACTORS_NAMESPACE: namespace,
        REDIS_ACTORS_TLS_CA: pki.ca,
      });
      await tree.waitForLine(/^ALL READY$/);
      const started = new Map(
        tree.stdout
          .filter((line) => line.startsWith('STARTED '))
          .map((line) => [line.split(' ')[1] ?? '', Number(line.split(' ')[2])] as const),
      );
      expect(started.size).toBe(2);
      const client = await start({ url, namespace, tls: { ca: caText } });
      for (const [name, pid] of started) expect(await client.ask(name, 'pid')).toBe(pid);
      tree.process.kill('SIGTERM');
      expect((await tree.exited).code).toBe(0);
      // Every line of the supervisor and of its children (forwarded), read to the end.
      expect(tree.lines.filter((line) => WARNING.test(line))).toEqual([]);
    });

    it('the CLI with --tls-ca (or the PEM text in REDIS_ACTORS_TLS_CA) lists and asks; without a CA it exits 6 saying how to give one', async () => {
      assertBuildIsCurrent();
      const port = await tlsRedis();
      const url = `rediss://127.0.0.1:${port}`;
      const server = await start({ url, tls: { ca: caText } });
      await server.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), {
        name: 'echo',
      });
      const cli = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
        const child = runCommand('node', ['dist/src/cli/main.js', ...args], {
          REDIS_URL: url,
          REDIS_ACTORS_NAMESPACE: server.namespace,
          ...env,
        });
        const { code } = await child.exited;
        return { code, stdout: child.stdout.join('\n'), all: child.lines.join('\n') };
      };

      const ls = await cli(['ls', '--json', '--tls-ca', pki.ca]);
      expect(ls.code, ls.all).toBe(0);
      expect((JSON.parse(ls.stdout) as { name?: string }[]).map((actor) => actor.name)).toContain(
        'echo',
      );
      const asked = await cli(['ask', 'echo', 'echo', '{"n":7}', '--tls-ca', pki.ca]);
      expect(asked.code, asked.all).toBe(0);
      expect(JSON.parse(asked.stdout)).toEqual({ n: 7 });
      const inline = await cli(['ask', 'echo', 'echo', '"pem"'], { REDIS_ACTORS_TLS_CA: caText });
      expect(inline.code, inline.all).toBe(0);
      expect(JSON.parse(inline.stdout)).toBe('pem');
      for (const run of [ls, asked, inline]) expect(run.all).not.toMatch(WARNING);

      const untrusted = await cli(['ls']);
      expect(untrusted.code).toBe(6);
      expect(untrusted.all).toMatch(/not trusted/);
      expect(untrusted.all).toContain('--tls-ca');
      expect(untrusted.all).toContain('REDIS_ACTORS_TLS_CA');
    });

    it('without the CA, or with another CA, start fails with a ConnectionError saying how to give the CA', async () => {
      const port = await tlsRedis();
      const url = `rediss://127.0.0.1:${port}`;
      for (const tls of [{}, { ca: fs.readFileSync(pki.otherCa, 'utf8') }]) {
        const error = await startFailure({ url, tls });
        expect(error).toBeInstanceOf(ConnectionError);
        expect(error.message).toContain(url);
        expect(error.message).toMatch(/certificate/i);
        expect(error.message).toMatch(/not trusted: give its CA with the tls\.ca option/);
        expect(error.message).toContain('REDIS_ACTORS_TLS_CA');
        expect(error.message).toContain('--tls-ca');
      }
      // A CA variable that names no file is refused before any connection, and named.
      expect(() =>
        tlsFromEnvironment({ REDIS_ACTORS_TLS_CA: path.join(pki.dir, 'nope.pem') }),
      ).toThrow(InvalidOptionError);
      expect(() =>
        tlsFromEnvironment({ REDIS_ACTORS_TLS_CA: path.join(pki.dir, 'nope.pem') }),
      ).toThrow(/REDIS_ACTORS_TLS_CA.*cannot read .*nope\.pem.*ENOENT.*PEM/);
      // Every setting a supervisor has reaches its children through the environment.
      const every = {
        ca: caText,
        cert: '-----BEGIN CERTIFICATE-----\ncert text',
        key: '-----BEGIN PRIVATE KEY-----\nkey text',
        passphrase: 'p',
        servername: 'redis.internal',
        minVersion: 'TLSv1.3' as const,
        rejectUnauthorized: false,
      };
      expect(tlsFromEnvironment(tlsEnvironment(every))).toEqual(every);
      expect(() => tlsFromEnvironment({ REDIS_ACTORS_TLS_MIN_VERSION: 'SSLv3' })).toThrow(
        /REDIS_ACTORS_TLS_MIN_VERSION.*TLSv1\.3/,
      );
      expect(() => tlsFromEnvironment({ REDIS_ACTORS_TLS_REJECT_UNAUTHORIZED: 'no' })).toThrow(
        InvalidOptionError,
      );
    });

    it('mutual TLS: the client certificate and an encrypted key with its passphrase reach a supervisor’s children, the plain key the CLI; without them the server refuses', async () => {
      const port = await tlsRedis('yes');
      const url = `rediss://127.0.0.1:${port}`;
      const tls = {
        ca: caText,
        cert: fs.readFileSync(pki.clientCert, 'utf8'),
        key: fs.readFileSync(pki.encryptedClientKey, 'utf8'),
        passphrase: CLIENT_KEY_PASSPHRASE,
      };
      const system = await start({ url, tls });
      const lines: string[] = [];
      const supervisor = await Supervisor.start(system, {
        output: (line) => lines.push(line),
      });
      onTestFinished(() => supervisor.stop());
      const child = await supervisor.spawn({ name: 'w', module: WORKER });
      expect(await system.ask('w', 'pid')).toBe(child.pid);

      assertBuildIsCurrent();
      const flags = ['--tls-ca', pki.ca, '--tls-cert', pki.clientCert, '--tls-key', pki.clientKey];
      const ls = runCommand('node', ['dist/src/cli/main.js', 'ls', '--json', ...flags], {
        REDIS_URL: url,
        REDIS_ACTORS_NAMESPACE: system.namespace,
      });
      expect((await ls.exited).code, ls.lines.join('\n')).toBe(0);
      expect(ls.stdout.join('\n')).toContain('"w"');

      await supervisor.stop();
      expect(lines.filter((line) => WARNING.test(line))).toEqual([]);
      const refused = await startFailure({ url, tls: { ca: caText } });
      expect(refused).toBeInstanceOf(ConnectionError);
      expect(refused.message).toContain(url);
      expect(refused.message).toMatch(/wants a client certificate.*tls\.cert.*--tls-key/);
      expect(refused.message).not.toMatch(/Check that redis-server runs there/);
    });
  },
);
