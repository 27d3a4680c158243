import type { ConnectionOptions } from 'node:tls';
import { InvalidOptionError } from '../errors.js';

/** TLS settings for `rediss://` connections (CA, client certificate, …). */
export type TlsOptions = Pick<
  ConnectionOptions,
  'ca' | 'cert' | 'key' | 'passphrase' | 'rejectUnauthorized' | 'servername' | 'minVersion'
>;

/** Where and how to reach a Redis server, parsed from a URL. */
export type RedisEndpoint =
  | {
      kind: 'tcp';
      host: string;
      port: number;
      tls: boolean;
      username: string | undefined;
      password: string | undefined;
      db: number;
    }
  | {
      kind: 'unix';
      path: string;
      username: string | undefined;
      password: string | undefined;
      db: number;
    };

/**
 * Parses `redis://[user:pass@]host[:port][/db]`, `rediss://…` (TLS),
 * `unix:///path/to/redis.sock[?db=N&username=…&password=…]` and a bare absolute socket path.
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  if (url.startsWith('/')) {
    return { kind: 'unix', path: url, username: undefined, password: undefined, db: 0 };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl(url);
  }
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  switch (parsed.protocol) {
    case 'redis:':
    case 'rediss:': {
      const dbPath = parsed.pathname.replace(/^\//, '');
      const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      return {
        kind: 'tcp',
        host: host === '' ? '127.0.0.1' : host,
        port: parsed.port === '' ? 6379 : Number(parsed.port),
        tls: parsed.protocol === 'rediss:',
        username,
        password: password ?? parsed.searchParams.get('password') ?? undefined,
        db: parseDb(url, dbPath === '' ? parsed.searchParams.get('db') : dbPath),
      };
    }
    case 'unix:':
    case 'redis+unix:': {
      if (parsed.pathname === '') throw invalidUrl(url);
      return {
        kind: 'unix',
        path: decodeURIComponent(parsed.pathname),
        username: username ?? parsed.searchParams.get('username') ?? undefined,
        password: password ?? parsed.searchParams.get('password') ?? undefined,
        db: parseDb(url, parsed.searchParams.get('db')),
      };
    }
    default:
      throw invalidUrl(url);
  }
}

/**
 * `scheme://user:` and the password after it, up to the `@` that ends the
 * authority (the last one before any `/`, `?` or `#`, as URL parsing reads
 * it); failing that (a URL that does not parse), up to the first `@`.
 */
const USERINFO_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)(?:[^/?#]*@|[^@]*@)/i;

/**
 * The URL with any password replaced by `***`, safe for logs and error
 * messages: the one in `user:password@` (which may hold an unescaped `@`) and
 * the value of every query parameter whose name, decoded, mentions "pass".
 */
export function redactUrl(url: string): string {
  const redacted = url.replace(USERINFO_PASSWORD, '$1***@');
  const query = redacted.indexOf('?');
  if (query === -1) return redacted;
  const params = redacted
    .slice(query + 1)
    .split('&')
    .map((param) => {
      const name = param.split('=', 1)[0] ?? '';
      return isPasswordParameter(name) ? `${name}=***` : param;
    });
  return `${redacted.slice(0, query + 1)}${params.join('&')}`;
}

function isPasswordParameter(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    // Not valid percent-encoding: judge the name as written.
  }
  return /pass/i.test(decoded);
}

function parseDb(url: string, value: string | null): number {
  if (value === null || value === '') return 0;
  const db = Number(value);
  if (!Number.isInteger(db) || db < 0) throw invalidUrl(url);
  return db;
}

function invalidUrl(url: string): InvalidOptionError {
  return new InvalidOptionError(
    'Redis URL',
    `cannot parse "${redactUrl(url)}". Use redis://host:6379, rediss://host:6380 (TLS), ` +
      `unix:///path/to/redis.sock or an absolute socket path.`,
  );
}
