/**
 * TLS for the whole tree: a redis-server that speaks only TLS, with a private
 * CA made here by openssl; an actor system, a supervisor's children and the
 * CLI all connect with the CA, and without it the connection fails clearly.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, Supervisor } from '../../src/index.js';
import {
  assertBuildIsCurrent,
  captureLogger,
  freePort,
  runCommand,
  startOwnRedis,
  uniqueNamespace,
} from '../helpers.js';

const WORKER = 'test/fixtures/worker.ts';

function available(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasTools = available('openssl', ['version']) && available('redis-server', ['--version']);

/** A CA and a server certificate for 127.0.0.1 and localhost, in a fresh directory. */
function makeCertificates(): { dir: string; ca: string; cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-tls-'));
  onTestFinished(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=redis-actors test CA',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
  );
  fs.writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    at('san.ext'),
    '-out',
    at('server.pem'),
  );
  return { dir, ca: at('ca.pem'), cert: at('server.pem'), key: at('server.key') };
}

async function tlsRedis() {
  const certificates = makeCertificates();
  const port = await freePort();
  await startOwnRedis({
    args: [
      '--tls-port',
      String(port),
      '--tls-cert-file',
      certificates.cert,
      '--tls-key-file',
      certificates.key,
      '--tls-ca-cert-file',
      certificates.ca,
      '--tls-auth-clients',
      'no',
    ],
  });
  return { url: `rediss://127.0.0.1:${port}`, ...certificates };
}

describe.skipIf(!hasTools)('TLS for the whole tree (needs openssl and a TLS redis-server)', () => {
  beforeAll(assertBuildIsCurrent);

  it('the CA given as an option reaches a supervisor’s children (through their environment); the CLI takes --tls-ca', async () => {
    const { url, ca } = await tlsRedis();
    const namespace = uniqueNamespace();
    const logger = captureLogger();
    const system = await ActorSystem.start({
      url,
      namespace,
      logger,
      tls: { ca: fs.readFileSync(ca, 'utf8') },
    });
    onTestFinished(() => system.stop());
    const lines: string[] = [];
    const supervisor = await Supervisor.start(system, {
      output: (line) => lines.push(line),
    });
    onTestFinished(() => supervisor.stop());
    const child = await supervisor.spawn({ name: 'w', module: WORKER });
    expect(await system.ask('w', 'pid')).toBe(child.pid);
    expect(lines.join('\n')).not.toMatch(/DeprecationWarning|self-signed|self signed/);

    const ls = runCommand('node', ['dist/src/cli/main.js', 'ls', '--json', '--tls-ca', ca], {
      REDIS_URL: url,
      REDIS_ACTORS_NAMESPACE: namespace,
    });
    const { code } = await ls.exited;
    expect(ls.lines.join('\n')).not.toMatch(/DeprecationWarning/);
    expect(code).toBe(0);
    expect(ls.stdout.join('\n')).toContain('"w"');
  });

  it('without the CA the connection fails with an error that says what to do', async () => {
    const { url } = await tlsRedis();
    const failed = ActorSystem.start({
      url,
      namespace: uniqueNamespace(),
      logger: captureLogger(),
      connectTimeoutMs: 3000,
    });
    await expect(failed).rejects.toThrow(/certificate/i);
    await expect(failed).rejects.toThrow(/REDIS_ACTORS_TLS_CA/);
  });
});
