import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertTrusted, pathExists } from './trusted-path.js';

/**
 * The per-user directory of the private broker: `$XDG_RUNTIME_DIR/redis-actors`
 * when that is set, else `<tmpdir>/redis-actors-<uid>`. Created with mode 700.
 */
export function defaultRuntimeDir(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  return xdg !== undefined && xdg !== ''
    ? path.join(xdg, 'redis-actors')
    : path.join(os.tmpdir(), `redis-actors-${uid}`);
}

/**
 * Creates `dir` (mode 700) unless it exists; throws BrokerNotFoundError when
 * it exists but is not this user's own (planted by someone else, a symbolic
 * link). One of ours with a looser mode is tightened.
 */
export function ensurePrivateDir(dir: string): void {
  // Whatever is there already, a dangling symbolic link included, is checked, not created through.
  if (!pathExists(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(dir);
  if (!stat.isSymbolicLink() && stat.isDirectory() && (stat.mode & 0o077) !== 0) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : stat.uid;
    if (stat.uid === uid) fs.chmodSync(dir, 0o700);
  }
  assertTrusted(dir, 'directory');
}

/** File holding the URL of the running private broker, for other processes of the user. */
export function brokerUrlFile(dir: string): string {
  return path.join(dir, 'broker.url');
}
