/**
 * The MONITOR connection goes where the system's connections go, the same
 * way: over TLS with the system's CA and client certificate, authenticating
 * with the URL's password (here `rediss://:<password>@127.0.0.1:<port>` to a
 * redis-server of the test's own that speaks only TLS and wants a client
 * certificate). Its own socket code, so tested on its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ActorSystem, type ActorSystemOptions, defineActor } from '../src/index.js';
import { captureLogger, deferred, freePort, startOwnRedis, uniqueNamespace } from './helpers.js';
import { type Pki, makePki, tlsSupport } from './security/pki.js';

const support = tlsSupport();
const PASSWORD = 'monitor-tls-Pw-81a';

describe.skipIf(!support.ok)(
  `the monitor over TLS${support.ok ? '' : ` (skipped: ${support.reason})`}`,
  () => {
    let pkiDir: string | undefined;
    let pki: Pki;
    beforeAll(() => {
      pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-monitor-tls-'));
      pki = makePki(pkiDir);
    });
    afterAll(() => {
      if (pkiDir !== undefined) fs.rmSync(pkiDir, { recursive: true, force: true });
    });

    it('MONITOR over rediss:// with a client certificate and a password shows the traffic', async () => {
      const port = await freePort();
      await startOwnRedis({
        args: [
          ...['--tls-port', String(port), '--tls-cert-file', pki.serverCert],
          ...['--tls-key-file', pki.serverKey, '--tls-ca-cert-file', pki.ca],
          ...['--tls-auth-clients', 'yes', '--requirepass', PASSWORD],
        ],
      });
      const options: ActorSystemOptions = {
        url: `rediss://:${PASSWORD}@127.0.0.1:${port}`,
        namespace: uniqueNamespace(),
        logger: captureLogger(),
        tls: {
          ca: fs.readFileSync(pki.ca, 'utf8'),
          cert: fs.readFileSync(pki.clientCert, 'utf8'),
          key: fs.readFileSync(pki.clientKey, 'utf8'),
        },
      };
      const host = await ActorSystem.start(options);
      onTestFinished(() => host.stop());
      await host.spawn(defineActor({ handlers: { note: () => undefined } }), { name: 'sink' });
      const watcher = await ActorSystem.start(options);
      onTestFinished(() => watcher.stop());
      const seen = deferred<string>();
      const stop = await watcher.monitor((event) => {
        if (event.envelope?.kind === 'tell') seen.resolve(event.target);
      });
      expect(stop.mode).toBe('monitor');
      await host.tell('sink', 'note', 'over TLS');
      expect(await seen.promise).toBe('sink');
      await stop();
    });
  },
);
