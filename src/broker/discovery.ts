import fs from 'node:fs';
import { brokerUrlFile, defaultRuntimeDir } from './runtime-dir.js';

/**
 * The URL of a private broker started by another process of this user, read
 * from its well-known file, or `undefined` when there is none. The socket file
 * must exist; whether the server answers is found out on connect.
 */
export function discoverBrokerUrl(dir: string = defaultRuntimeDir()): string | undefined {
  let url: string;
  try {
    url = fs.readFileSync(brokerUrlFile(dir), 'utf8').trim();
  } catch {
    return undefined;
  }
  const socketPath = url.startsWith('unix://') ? url.slice('unix://'.length) : undefined;
  if (socketPath !== undefined && !fs.existsSync(socketPath)) return undefined;
  return url === '' ? undefined : url;
}
