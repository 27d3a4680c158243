/**
 * The cluster transport over TLS (`rediss+cluster://`): a Redis Cluster of
 * this file's own, 3 masters and no replicas, whose nodes speak only TLS, to
 * clients and on the cluster bus, with a private CA made by openssl. Actor
 * systems given the CA ask and tell across masters and share values; without
 * the CA (or with another one) start fails with a ConnectionError that says
 * how to give it, and so it does, instead of hanging, when only a node learned
 * from the slot map shows a certificate that does not name its address.
 * Skipped, with the reason, without openssl or a TLS build of redis-server.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/broker/local-cluster.js';
import { type RunningRedisServer, startRedisServer } from '../../src/broker/redis-server.js';
import {
  ActorSystem,
  ConnectionError,
  defineActor,
  type ActorSystemOptions,
} from '../../src/index.js';
import { slotOf } from '../../src/transport/cluster/slot.js';
import { captureLogger, deferred, uniqueNamespace } from '../helpers.js';
import { type Pki, makePki, signCertificate, tlsSupport } from '../security/pki.js';

const run = promisify(execFile);
const support = tlsSupport();
const MASTERS = 3;

/** CLUSTER SLOTS as redis-cli --json prints it: [start, end, [host, port, id, …], …replicas]. */
type SlotsReply = [number, number, [string, number, ...unknown[]], ...unknown[]][];

describe.skipIf(!support.ok)(
  `the cluster transport over TLS${support.ok ? '' : ` (skipped: ${support.reason})`}`,
  () => {
    let base: string | undefined;
    let pki: Pki;
    let caText: string;
    const servers: RunningRedisServer[] = [];
    /** The TLS port of each node (they have no plain TCP port). */
    const ports: number[] = [];

    /** redis-cli over TLS, trusting the test CA. */
    async function cli(args: string[]): Promise<string> {
      const { stdout } = await run('redis-cli', ['--tls', '--cacert', pki.ca, ...args]);
      return stdout;
    }

    beforeAll(async () => {
      base = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-cluster-tls-'));
      const pkiDir = path.join(base, 'pki');
      fs.mkdirSync(pkiDir, { mode: 0o700 });
      pki = makePki(pkiDir);
      caText = fs.readFileSync(pki.ca, 'utf8');
      for (let i = 0; i < MASTERS; i++) {
        const tlsPort = await freePort();
        const server = await startRedisServer({
          dir: path.join(base, `node${i}`),
          port: 0,
          extraArgs: [
            '--tls-port',
            String(tlsPort),
            '--tls-cluster',
            'yes',
            '--tls-replication',
            'yes',
            '--tls-cert-file',
            pki.serverCert,
            '--tls-key-file',
            pki.serverKey,
            '--tls-ca-cert-file',
            pki.ca,
            '--tls-auth-clients',
            'no',
            '--cluster-enabled',
            'yes',
            // The bus port would be tls-port + 10000, which nobody checked was free.
            '--cluster-port',
            String(await freePort()),
          ],
        });
        servers.push(server);
        ports.push(tlsPort);
      }
      await cli([
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const infos = await Promise.all(
          ports.map((port) => cli(['-p', String(port), 'CLUSTER', 'INFO']).catch(() => '')),
        );
        if (infos.every((info) => info.includes('cluster_state:ok'))) break;
        if (Date.now() > deadline) throw new Error(`cluster not ok after 20 s:\n${infos.join()}`);
        // Polls servers of our own: cluster_state has no event to wait on.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }, 60_000);

    afterAll(async () => {
      // Even when a node or openssl failed half-way: only the servers started here.
      await Promise.all(servers.map((server) => server.stop()));
      if (base !== undefined) fs.rmSync(base, { recursive: true, force: true });
    });

    /** The TLS URL with two of the three nodes as seeds: the third is learned from CLUSTER SLOTS. */
    const url = (): string => `rediss+cluster://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`;

    async function start(options: Partial<ActorSystemOptions> = {}): Promise<ActorSystem> {
      const system = await ActorSystem.start({
        url: url(),
        namespace: uniqueNamespace(),
        logger: captureLogger(),
        connectTimeoutMs: 5000,
        ...options,
      });
      onTestFinished(() => system.stop());
      return system;
    }

    /** The port of the master of each slot range, as the cluster itself says over TLS. */
    async function masterOfSlot(): Promise<(slot: number) => number> {
      const reply = JSON.parse(
        await cli(['-p', String(ports[0]), '--json', 'CLUSTER', 'SLOTS']),
      ) as SlotsReply;
      const ranges = reply.map(([first, last, [, port]]) => ({ first, last, port }));
      // Clients must be told the TLS ports: a plain one (there is none: 0) would be unreachable.
      expect(new Set(ranges.map((range) => range.port))).toEqual(new Set(ports));
      return (slot) => {
        const range = ranges.find(({ first, last }) => first <= slot && slot <= last);
        if (range === undefined) throw new Error(`slot ${slot} has no master`);
        return range.port;
      };
    }

    it('given the CA: asks and a tell between two actor systems across masters, and shared values, with no warning', async () => {
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
      process.on('warning', onWarning);
      onTestFinished(() => {
        process.off('warning', onWarning);
      });
      const namespace = uniqueNamespace();
      const owner = await masterOfSlot();
      // A name's mailbox channel is `<namespace>:<name>`: one name on each master.
      const byMaster = new Map<number, string>();
      for (let i = 0; byMaster.size < MASTERS; i++) {
        const name = `echo${i}`;
        const port = owner(slotOf(`${namespace}:${name}`));
        if (!byMaster.has(port)) byMaster.set(port, name);
      }
      const [nameA, nameB, nameC] = [...byMaster.values()] as [string, string, string];

      const a = await start({ namespace, tls: { ca: caText } });
      const b = await start({ namespace, tls: { ca: caText } });
      const echo = defineActor({ handlers: { echo: (body: unknown) => body } });
      await a.spawn(echo, { name: nameA });
      await b.spawn(echo, { name: nameB });
      const told = deferred<unknown>();
      await b.spawn(
        defineActor({
          handlers: {
            note: (body: unknown) => {
              told.resolve(body);
            },
          },
        }),
        {
          name: nameC,
        },
      );

      expect(await a.ask(nameB, 'echo', { from: 'a', n: 1 })).toEqual({ from: 'a', n: 1 });
      expect(await b.ask(nameA, 'echo', { from: 'b', n: 2 })).toEqual({ from: 'b', n: 2 });
      const many = await Promise.all(
        Array.from({ length: 30 }, (_, i) => a.ask([nameA, nameB][i % 2] as string, 'echo', i)),
      );
      expect(many).toEqual(Array.from({ length: 30 }, (_, i) => i));
      await a.tell(nameC, 'note', 'over TLS');
      expect(await told.promise).toBe('over TLS');

      await a.values('g').set('angle', { degrees: 42 });
      expect(await b.values('g').get('angle')).toEqual({ degrees: 42 });
      // A seed by host name is checked against it (SNI); the nodes it names are IP addresses.
      const byName = await start({
        url: `rediss+cluster://localhost:${ports[2]}`,
        namespace,
        tls: { ca: caText },
      });
      expect(await byName.ask(nameA, 'echo', 'by name')).toBe('by name');
      expect(await byName.values('g').get('angle')).toEqual({ degrees: 42 });
      expect(warnings).toEqual([]);
    });

    it('without the CA, or with another CA, start fails with a ConnectionError saying how to give the CA', async () => {
      for (const tls of [{}, { ca: fs.readFileSync(pki.otherCa, 'utf8') }]) {
        const error = await start({ tls }).catch((failure: unknown) => failure as Error);
        if (error instanceof ActorSystem) throw new Error('connected without a trusted CA');
        expect(error).toBeInstanceOf(ConnectionError);
        expect(error.message).toContain(url());
        expect(error.message).toMatch(/certificate/i);
        expect(error.message).toMatch(/not trusted: give its CA with the tls\.ca option/);
        expect(error.message).toContain('REDIS_ACTORS_TLS_CA');
        expect(error.message).toContain('--tls-ca');
      }
    });

    it('a master whose certificate does not name the address the cluster announces fails start with a ConnectionError, not a hang', async () => {
      // The seeds still prove themselves; the third node, learned from CLUSTER SLOTS as
      // 127.0.0.1, now shows a certificate for localhost only (the bus does not check names).
      const named = signCertificate(
        pki.dir,
        'localhost-only',
        '/CN=localhost',
        'subjectAltName=DNS:localhost\n',
      );
      const third = String(ports[2]);
      const certificate = (cert: string, key: string) =>
        cli(['-p', third, 'CONFIG', 'SET', 'tls-cert-file', cert, 'tls-key-file', key]);
      await certificate(named.cert, named.key);
      onTestFinished(() => certificate(pki.serverCert, pki.serverKey).then(() => undefined));
      const error = await start({ tls: { ca: caText } }).catch(
        (failure: unknown) => failure as Error,
      );
      if (error instanceof ActorSystem)
        throw new Error('connected to a node whose certificate names another host');
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain(url());
      expect(error.message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
    });
  },
);
