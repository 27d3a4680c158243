/**
 * The Redis ACL a namespace needs: its keys (`~<ns>:*`), its channels
 * (`&<ns>:*`), the commands the framework sends, and nothing dangerous. With
 * one such user per namespace, applications sharing a Redis cannot read or
 * write each other's keys and channels (what still leaks, and why, is in
 * docs/SECURITY.md).
 */
import { assertValidName } from '../wire/index.js';

export interface NamespaceAclOptions {
  /**
   * The Redis user's name.
   * @default the namespace
   */
  user?: string;
  /** Its password (`>password`); without one the line says `nopass`. */
  password?: string;
  /**
   * Also grant redis-ipc's global keys and channels (`queues.*`, `settings.*`,
   * `status.*`, `channel.*`), its BLPOP and the CLIENT UNBLOCK that ends one
   * (which can end any client's blocking command: grant it only where redis-ipc runs).
   * @default false
   */
  redisIpc?: boolean;
}

/**
 * Command categories granted, then what is taken away again: every command in
 * @dangerous (KEYS, FLUSHALL, CONFIG, MONITOR, …), and the read-only commands
 * that list other namespaces' names regardless of key and channel patterns.
 */
const CATEGORIES = ['+@connection', '+@read', '+@write', '+@keyspace', '+@pubsub', '+@scripting'];
const DENIED = [
  '-@dangerous',
  '-scan',
  '-randomkey',
  '-pubsub|channels',
  '-pubsub|shardchannels',
  '-client|list',
  '-client|info',
  '-client|kill',
  '-client|no-evict',
  '-client|pause',
  '-client|unpause',
];
/** Connection housekeeping the framework sends on every connection. */
const HOUSEKEEPING = ['+client|setname', '+client|id', '+ping', '+select'];

/** The arguments of `ACL SETUSER` for a namespace's user (for `--apply`). */
export function namespaceAclArguments(
  namespace: string,
  options: NamespaceAclOptions = {},
): string[] {
  assertValidName('namespace', namespace);
  const user = options.user ?? namespace;
  if (!/^[\w.-]{1,64}$/.test(user)) {
    throw new Error(`user "${user}" must be 1-64 letters, digits, '_', '.' or '-'`);
  }
  const ipc = options.redisIpc === true;
  return [
    user,
    'reset',
    'on',
    options.password === undefined ? 'nopass' : `>${options.password}`,
    `~${namespace}:*`,
    ...(ipc ? ['~queues.*', '~settings.*', '~status.*'] : []),
    'resetchannels',
    `&${namespace}:*`,
    ...(ipc ? ['&channel.*'] : []),
    ...CATEGORIES,
    ...DENIED,
    ...HOUSEKEEPING,
    ...(ipc ? ['+blpop', '+client|unblock'] : []),
  ];
}

/** The `ACL SETUSER` line for a namespace's user, as redis-cli takes it. */
export function namespaceAclLine(namespace: string, options: NamespaceAclOptions = {}): string {
  return ['ACL', 'SETUSER', ...namespaceAclArguments(namespace, options)]
    .map((part) => (/[\s"'\\]/.test(part) ? JSON.stringify(part) : part))
    .join(' ');
}
