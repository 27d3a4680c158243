/**
 * TLS settings that reach every process of a tree: from options, or from
 * `REDIS_ACTORS_TLS_CA` / `_CERT` / `_KEY` (each a file path or the PEM text
 * itself), which supervisors hand to their children.
 */
import fs from 'node:fs';
import net from 'node:net';
import { InvalidOptionError } from '../errors.js';
import type { TlsOptions } from './redis-url.js';

/** The environment variables of TLS settings, by option. */
export const TLS_ENV = {
  ca: 'REDIS_ACTORS_TLS_CA',
  cert: 'REDIS_ACTORS_TLS_CERT',
  key: 'REDIS_ACTORS_TLS_KEY',
} as const;

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
  return tls;
}

/**
 * The environment that gives a child process `tls`: PEM text of the CA,
 * certificate and key (only those that are text; Buffers as UTF-8).
 */
export function tlsEnvironment(tls: TlsOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [option, variable] of Object.entries(TLS_ENV) as [keyof typeof TLS_ENV, string][]) {
    const value = tls[option];
    if (typeof value === 'string') env[variable] = value;
    else if (Buffer.isBuffer(value)) env[variable] = value.toString('utf8');
    else if (Array.isArray(value)) env[variable] = value.map(String).join('\n');
  }
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
