/**
 * TLS settings that reach every process of a tree: from options, or from
 * `REDIS_ACTORS_TLS_CA` / `_CERT` / `_KEY` (each a file path or the PEM text
 * itself) and `_PASSPHRASE` / `_SERVERNAME` / `_MIN_VERSION` /
 * `_REJECT_UNAUTHORIZED`, which supervisors hand to their children.
 */
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { InvalidOptionError } from '../errors.js';
import type { RedisEndpoint, TlsOptions } from './redis-url.js';

/** The environment variables of TLS settings, by option. */
export const TLS_ENV = {
  ca: 'REDIS_ACTORS_TLS_CA',
  cert: 'REDIS_ACTORS_TLS_CERT',
  key: 'REDIS_ACTORS_TLS_KEY',
} as const;

/** The environment variables of the other TLS settings, which are plain values. */
const SETTING_ENV = {
  passphrase: 'REDIS_ACTORS_TLS_PASSPHRASE',
  servername: 'REDIS_ACTORS_TLS_SERVERNAME',
  minVersion: 'REDIS_ACTORS_TLS_MIN_VERSION',
  rejectUnauthorized: 'REDIS_ACTORS_TLS_REJECT_UNAUTHORIZED',
} as const;

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

const PEM = /^-----BEGIN /;

/** TLS settings from the environment: PEM text, or the file each variable names. */
export function tlsFromEnvironment(env: NodeJS.ProcessEnv = process.env): TlsOptions {
  const tls: TlsOptions = {};
  for (const [option, variable] of Object.entries(TLS_ENV) as [keyof typeof TLS_ENV, string][]) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    if (PEM.test(value)) {
      tls[option] = value;
      continue;
    }
    try {
      tls[option] = fs.readFileSync(value, 'utf8');
    } catch (error) {
      throw new InvalidOptionError(
        variable,
        `cannot read "${value}" (${(error as NodeJS.ErrnoException).code ?? String(error)}): ` +
          `give the path of a PEM file, or the PEM text itself`,
      );
    }
  }
  return { ...tls, ...settingsFromEnvironment(env) };
}

function settingsFromEnvironment(env: NodeJS.ProcessEnv): TlsOptions {
  const tls: TlsOptions = {};
  const { passphrase, servername, minVersion, rejectUnauthorized } = SETTING_ENV;
  if (env[passphrase]) tls.passphrase = env[passphrase];
  if (env[servername]) tls.servername = env[servername];
  const version = env[minVersion];
  if (version) {
    const known = TLS_VERSIONS.find((each) => each === version);
    if (known === undefined)
      throw new InvalidOptionError(
        minVersion,
        `"${version}" is not one of ${TLS_VERSIONS.join(', ')}`,
      );
    tls.minVersion = known;
  }
  const reject = env[rejectUnauthorized];
  if (reject) {
    if (reject !== 'true' && reject !== 'false')
      throw new InvalidOptionError(rejectUnauthorized, `"${reject}" is neither true nor false`);
    tls.rejectUnauthorized = reject === 'true';
  }
  return tls;
}

/**
 * The environment that gives a child process `tls`: PEM text of the CA,
 * certificate and key (Buffers as UTF-8), and the other settings as text.
 */
export function tlsEnvironment(tls: TlsOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [option, variable] of Object.entries(TLS_ENV) as [keyof typeof TLS_ENV, string][]) {
    const value = tls[option];
    if (typeof value === 'string') env[variable] = value;
    else if (Buffer.isBuffer(value)) env[variable] = value.toString('utf8');
    else if (Array.isArray(value)) env[variable] = value.map(String).join('\n');
  }
  const { passphrase, servername, minVersion, rejectUnauthorized } = tls;
  if (passphrase !== undefined) env[SETTING_ENV.passphrase] = passphrase;
  if (servername !== undefined) env[SETTING_ENV.servername] = servername;
  if (minVersion !== undefined) env[SETTING_ENV.minVersion] = minVersion;
  if (rejectUnauthorized !== undefined)
    env[SETTING_ENV.rejectUnauthorized] = String(rejectUnauthorized);
  return env;
}

/**
 * The server name to present: the host, unless it is an IP address (RFC 6066
 * forbids it, and Node warns); then none, and the certificate is checked
 * against the IP address itself.
 */
export function serverNameFor(host: string): { servername?: string } {
  return net.isIP(host) === 0 ? { servername: host } : {};
}

/** A socket to `endpoint`: a unix socket, TCP, or TLS for a `rediss:` endpoint. */
export function connectSocket(endpoint: RedisEndpoint, tlsOptions: TlsOptions): net.Socket {
  if (endpoint.kind === 'unix') return net.createConnection({ path: endpoint.path });
  if (!endpoint.tls) return net.createConnection({ host: endpoint.host, port: endpoint.port });
  return tls.connect({
    host: endpoint.host,
    port: endpoint.port,
    ...serverNameFor(endpoint.host),
    ...tlsOptions,
  });
}
