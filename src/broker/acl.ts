/**
 * The Redis ACL a namespace needs: its keys (`~<ns>:*`), its channels
 * (`&<ns>:*`), exactly the commands the framework sends, and nothing that
 * reaches past the namespace. With one such user per namespace, applications
 * sharing a Redis cannot read or write each other's keys and channels (what
 * still leaks, and why, is in docs/SECURITY.md).
 *
 * Commands are listed one by one, not granted by category: a category also
 * brings key-less commands that act on the whole server (FUNCTION FLUSH,
 * SCRIPT KILL, CLIENT TRACKING, which reports other namespaces' key names,
 * DBSIZE, …), which no key or channel pattern restricts.
 */
import { InvalidOptionError } from '../errors.js';
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
   * `status.*`, `channel.*`), its RPUSH and BLPOP and the CLIENT UNBLOCK that
   * ends one (which can end any client's blocking command: grant it only where
   * redis-ipc runs).
   * @default false
   */
  redisIpc?: boolean;
  /**
   * redis-ipc components whose events and debug messages this user listens to
   * by component (implies `redisIpc`). Redis allows a PSUBSCRIBE only of a
   * pattern the ACL lists as it is, so `&channel.*` does not cover
   * `channel.events.<component>.*`: each component's patterns are listed.
   * Listening to every component (`subscribeEvents({})`, `subscribeDebug({})`)
   * needs none.
   * @default []
   */
  redisIpcComponents?: readonly string[];
  /**
   * More commands or categories the application sends itself through
   * `system.command()`, e.g. `['lpush', 'ltrim', 'lrange']` or `['@list']`:
   * still limited to the namespace's keys, and never what NEVER_GRANTED below takes away.
   * @default []
   */
  allow?: readonly string[];
  /**
   * Also grant what the cluster transport sends on a Redis Cluster: sharded
   * pub/sub (SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE, PUBSUB SHARDNUMSUB, and PUBSUB
   * SHARDCHANNELS for the monitor, which lists sharded channels of every
   * namespace), CLUSTER SLOTS and ASKING.
   * @default false
   */
  cluster?: boolean;
}

/**
 * Connection housekeeping: SELECT of a URL's database, the client's name and id,
 * liveness. (AUTH, HELLO, QUIT and RESET need no grant: Redis lets any user run them.)
 */
const CONNECTION = ['+select', '+client|setname', '+client|id', '+ping'];

/**
 * Every key command the framework sends, directly or from its Lua scripts:
 * claim checks (SET PX, GETRANGE, DEL), the registry and name claims (SET, GET,
 * GETRANGE, DEL, PTTL, PEXPIRE, ZADD, ZREM, ZRANGEBYSCORE, ZREMRANGEBYSCORE, and
 * for each process's hash of entries HSET, HDEL, HKEYS, HSTRLEN, HGET) and shared
 * values (HSET, HGET, HMGET, HGETALL, HDEL, HINCRBY).
 */
const KEYS = [
  '+get',
  '+set',
  '+del',
  '+mget',
  '+getrange',
  '+pexpire',
  '+pttl',
  '+zadd',
  '+zrem',
  '+zrangebyscore',
  '+zremrangebyscore',
  '+hset',
  '+hget',
  '+hmget',
  '+hgetall',
  '+hdel',
  '+hincrby',
  '+hkeys',
  '+hstrlen',
];

/**
 * Mailboxes, topics, value notifications and the monitor; PUBSUB NUMSUB is how
 * the name-claim script tells whether a name's owner still listens.
 */
const PUBSUB = [
  '+publish',
  '+subscribe',
  '+psubscribe',
  '+unsubscribe',
  '+punsubscribe',
  '+pubsub|numsub',
];

/** A Redis Cluster: sharded pub/sub, the slot map, and ASK redirects. */
const CLUSTER = [
  '+spublish',
  '+ssubscribe',
  '+sunsubscribe',
  '+pubsub|shardnumsub',
  '+pubsub|shardchannels',
  '+cluster|slots',
  '+asking',
];

/**
 * Durable mailboxes: a stream per name with its group (XADD, XLEN, XREADGROUP,
 * XACK, XDEL, XPENDING, XCLAIM, XRANGE, XGROUP CREATE and DELCONSUMER), the
 * wake-up list readers block on (LPUSH, LLEN, BLPOP), and EXISTS of a name's
 * settings. Not CLIENT UNBLOCK: a stopping reader then waits out its BLPOP (1 s).
 */
const DURABLE = [
  '+exists',
  '+xadd',
  '+xlen',
  '+xreadgroup',
  '+xack',
  '+xdel',
  '+xpending',
  '+xclaim',
  '+xrange',
  '+xgroup|create',
  '+xgroup|delconsumer',
  '+lpush',
  '+llen',
  '+blpop',
];

/** Lua scripts (name claims, shared-value writes): EVALSHA, and EVAL when the script cache lacks one. */
const SCRIPTS = ['+eval', '+evalsha'];

/** redis-ipc's queues: clients RPUSH commands and results, servers and readers BLPOP them. */
const REDIS_IPC = ['+rpush', '+blpop', '+client|unblock'];

/**
 * Taken away after `allow`, so that no extra command or category brings them
 * back: everything in @dangerous and @admin (KEYS, FLUSHALL, CONFIG, MONITOR,
 * INFO, DEBUG, SHUTDOWN, SORT, MIGRATE, ACL, SLOWLOG, …), and the key-less
 * commands that list or count other namespaces' keys, channels or clients, or
 * act on other clients or on server-wide state: SCAN, RANDOMKEY, DBSIZE,
 * PUBSUB (but NUMSUB, granted again below), CLIENT (but SETNAME and ID),
 * FUNCTION (libraries are global), SCRIPT (KILL and FLUSH act on every client),
 * MEMORY (STATS and DOCTOR describe the whole server), CLUSTER (GETKEYSINSLOT
 * lists any key of a slot).
 */
const NEVER_GRANTED = [
  '-@dangerous',
  '-@admin',
  '-scan',
  '-randomkey',
  '-dbsize',
  '-pubsub',
  '-client',
  '-function',
  '-script',
  '-memory',
  '-cluster',
];

/** A command (`lpush`, `client|getname`) or a category (`@list`), as `allow` takes them. */
const ALLOWED_NAME = /^(?:@[a-z]+|[a-z][a-z0-9_-]*(?:\|[a-z][a-z0-9_-]*)?)$/;

/** The arguments of `ACL SETUSER` for a namespace's user (for `--apply`). */
export function namespaceAclArguments(
  namespace: string,
  options: NamespaceAclOptions = {},
): string[] {
  assertValidName('namespace', namespace);
  const user = options.user ?? namespace;
  if (!/^[\w.-]{1,64}$/.test(user)) {
    throw new InvalidOptionError('user', `"${user}" must be 1-64 letters, digits, '_', '.' or '-'`);
  }
  const allow = (options.allow ?? []).map((name) => name.trim().toLowerCase());
  for (const name of allow) {
    if (!ALLOWED_NAME.test(name)) {
      throw new InvalidOptionError(
        'allow',
        `"${name}" is not a command (lpush), a subcommand (client|getname) or a category (@list)`,
      );
    }
  }
  const components = options.redisIpcComponents ?? [];
  for (const component of components) {
    if (!/^[^\s*?[\]\\]+$/.test(component)) {
      throw new InvalidOptionError(
        'redis-ipc component',
        `${JSON.stringify(component)} must be non-empty, without whitespace or * ? [ ] \\`,
      );
    }
  }
  const ipc = options.redisIpc === true || components.length > 0;
  return [
    user,
    'reset',
    'on',
    options.password === undefined ? 'nopass' : `>${options.password}`,
    `~${namespace}:*`,
    ...(ipc ? ['~queues.*', '~settings.*', '~status.*'] : []),
    'resetchannels',
    `&${namespace}:*`,
    // PUBLISH and SUBSCRIBE of any redis-ipc channel; PSUBSCRIBE of these patterns only.
    ...(ipc ? ['&channel.*', '&channel.events.*', '&channel.debug.*'] : []),
    ...components.flatMap((component) => [
      `&channel.events.${component}`,
      `&channel.events.${component}.*`,
      `&channel.debug.${component}`,
    ]),
    // `reset` took every command away: the denials matter only after an `allow`.
    ...(allow.length > 0 ? [...allow.map((name) => `+${name}`), ...NEVER_GRANTED] : []),
    ...CONNECTION,
    ...KEYS,
    ...PUBSUB,
    ...DURABLE,
    ...SCRIPTS,
    ...(options.cluster === true ? CLUSTER : []),
    ...(ipc ? REDIS_IPC : []),
  ];
}

/** The `ACL SETUSER` line for a namespace's user, as redis-cli takes it. */
export function namespaceAclLine(namespace: string, options: NamespaceAclOptions = {}): string {
  return ['ACL', 'SETUSER', ...namespaceAclArguments(namespace, options)]
    .map((part) => (/[\s"'\\]/.test(part) ? JSON.stringify(part) : part))
    .join(' ');
}
