/**
 * Whether a path in the runtime directory is this user's own. The private
 * broker's directory sits in a shared place (`/tmp` when XDG_RUNTIME_DIR is
 * unset), where another local user could plant a directory, a `broker.url`
 * naming their own server, or a socket: every one is checked with lstat
 * (never following a symbolic link) before it is used.
 */
import fs from 'node:fs';
import { BrokerNotFoundError } from '../errors.js';

type Kind = 'directory' | 'file' | 'socket';

const currentUid = (): number | undefined =>
  typeof process.getuid === 'function' ? process.getuid() : undefined;

/** Whether anything is at `path`, a dangling symbolic link included (fs.existsSync follows links). */
export function pathExists(path: string): boolean {
  try {
    fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Why `path` is not this user's own `kind`, or `undefined` when it is (or does not exist). */
export function untrustedReason(path: string, kind: Kind): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch {
    return undefined;
  }
  if (stat.isSymbolicLink()) return `${path} is a symbolic link`;
  const isKind =
    kind === 'directory' ? stat.isDirectory() : kind === 'file' ? stat.isFile() : stat.isSocket();
  if (!isKind) return `${path} is not a ${kind}`;
  const uid = currentUid();
  if (uid !== undefined && stat.uid !== uid) {
    return `${path} belongs to uid ${stat.uid}, not to you (uid ${uid})`;
  }
  // Group or others may read or write it: someone else could change what it says.
  if (kind !== 'socket' && (stat.mode & 0o077) !== 0) {
    return `${path} is accessible to other users (mode ${(stat.mode & 0o777).toString(8)})`;
  }
  return undefined;
}

/** Throws BrokerNotFoundError, naming the path and the reason, when `path` is not trusted. */
export function assertTrusted(path: string, kind: Kind): void {
  const reason = untrustedReason(path, kind);
  if (reason === undefined) return;
  throw new BrokerNotFoundError(
    `refusing the private broker's ${kind}: ${reason}; another user may have planted it`,
    `Set XDG_RUNTIME_DIR to a directory of your own (mode 700), or REDIS_URL; ` +
      `remove the ${kind} if it is yours.`,
  );
}
