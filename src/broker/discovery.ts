import fs from 'node:fs';
import { brokerUrlFile, defaultRuntimeDir } from './runtime-dir.js';
import { assertTrusted, pathExists } from './trusted-path.js';

/**
 * The URL of a private broker started by another process of this user, read
 * from its well-known file, or `undefined` when there is none. The directory,
 * the file and the socket it names must be this user's own (lstat: owner,
 * not a symbolic link, not open to others), else BrokerNotFoundError says
 * which and why; a symbolic link is refused even when it leads nowhere (a
 * planted one would otherwise pass for "no broker yet"). Whether the server
 * answers is found out on connect.
 */
export function discoverBrokerUrl(dir: string = defaultRuntimeDir()): string | undefined {
  const file = brokerUrlFile(dir);
  if (!pathExists(dir)) return undefined;
  assertTrusted(dir, 'directory');
  if (!pathExists(file)) return undefined;
  assertTrusted(file, 'file');
  let url: string;
  try {
    url = fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  const socketPath = url.startsWith('unix://') ? url.slice('unix://'.length) : undefined;
  if (socketPath !== undefined) {
    if (!pathExists(socketPath)) return undefined;
    assertTrusted(socketPath, 'socket');
  }
  return url === '' ? undefined : url;
}
