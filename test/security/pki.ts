/**
 * A private PKI for TLS tests, made with openssl in a directory of the test's
 * (two CAs, a server certificate, a client one), and the probe that says
 * whether this machine can run TLS tests at all.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Whether openssl runs and redis-server was built with TLS; else why not. */
export function tlsSupport(): { ok: true } | { ok: false; reason: string } {
  if (spawnSync('openssl', ['version']).status !== 0) return { ok: false, reason: 'no openssl' };
  // A TLS build knows tls-port, and only then says it was given nowhere to listen.
  const probe = spawnSync('redis-server', ['--port', '0', '--tls-port', '0'], {
    encoding: 'utf8',
    timeout: 5000,
  });
  if (probe.error !== undefined) return { ok: false, reason: 'no redis-server on PATH' };
  const output = `${probe.stdout}${probe.stderr}`;
  return /not listen anywhere/i.test(output) && !/Bad directive/i.test(output)
    ? { ok: true }
    : { ok: false, reason: `redis-server has no TLS: ${output.trim().split('\n').pop() ?? ''}` };
}
export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** The client key encrypted with {@link CLIENT_KEY_PASSPHRASE}. */
  encryptedClientKey: string;
  /** A CA that signed nothing here. */
  otherCa: string;
}

export const CLIENT_KEY_PASSPHRASE = 'test passphrase';

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(...args: string[]): Buffer {
  return execFileSync('openssl', args, { stdio: 'pipe' });
}

/**
 * `<name>.pem` and `<name>.key` in `dir`: a certificate for `subject` with the
 * openssl `extensions` (e.g. its subjectAltName), signed by the CA of {@link makePki}.
 */
export function signCertificate(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
): { cert: string; key: string } {
  const at = (file: string) => path.join(dir, file);
  openssl(
    'req',
    ...NEW_KEY,
    '-subj',
    subject,
    '-keyout',
    at(`${name}.key`),
    '-out',
    at(`${name}.csr`),
  );
  fs.writeFileSync(at(`${name}.ext`), extensions);
  openssl(
    'x509',
    '-req',
    '-in',
    at(`${name}.csr`),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    at(`${name}.ext`),
    '-out',
    at(`${name}.pem`),
  );
  return { cert: at(`${name}.pem`), key: at(`${name}.key`) };
}

/** In `dir`: two CAs, a server certificate (CN localhost, SAN 127.0.0.1 and localhost), a client one. */
export function makePki(dir: string): Pki {
  const at = (name: string) => path.join(dir, name);
  for (const name of ['ca', 'other-ca']) {
    const subject = `/CN=redis-actors test ${name}`;
    openssl(
      'req',
      '-x509',
      ...NEW_KEY,
      '-days',
      '1',
      '-subj',
      subject,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.pem`),
    );
  }
  signCertificate(dir, 'server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  signCertificate(dir, 'client', '/CN=redis-actors test client', 'extendedKeyUsage=clientAuth\n');
  openssl(
    'pkey',
    '-in',
    at('client.key'),
    '-aes256',
    '-passout',
    `pass:${CLIENT_KEY_PASSPHRASE}`,
    '-out',
    at('client-encrypted.key'),
  );
  return {
    dir,
    ca: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    encryptedClientKey: at('client-encrypted.key'),
    otherCa: at('other-ca.pem'),
  };
}
