import {
  commandOnEveryNode,
  isClusterUrl,
  namespaceAclArguments,
  namespaceAclLine,
  tlsFromEnvironment,
} from '../internal.js';
import type { Command } from './command.js';
import { resolveUrl, withSystem } from './connect.js';
import { EXIT, UsageError } from './usage.js';

/** `--allow lpush,ltrim,@hash` as `['lpush', 'ltrim', '@hash']`. */
function list(value: string | boolean | undefined): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((each) => each.trim())
    .filter((each) => each !== '');
}

export const aclCommand: Command = {
  name: 'acl',
  summary: 'print (or apply) the Redis ACL user a namespace needs',
  help: `usage: redis-actors acl <namespace> [--user u] [--password p] [--redis-ipc]
         [--redis-ipc-components c1,c2] [--allow cmd,cmd,@category] [--cluster] [--apply]

Prints the ACL SETUSER line of a Redis user that may use namespace <namespace>
and nothing else: its keys (~<namespace>:*), its channels (&<namespace>:*) and
exactly the commands redis-actors sends (GET, SET, MGET, GETRANGE, DEL, PTTL,
PEXPIRE, ZADD, ZREM, ZRANGEBYSCORE, ZREMRANGEBYSCORE, HSET, HGET, HMGET,
HGETALL, HDEL, HINCRBY, HKEYS, HSTRLEN, PUBLISH, SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE,
PUNSUBSCRIBE, PUBSUB NUMSUB, EVAL, EVALSHA, SELECT, PING, CLIENT SETNAME,
CLIENT ID; AUTH and QUIT need no grant). Nothing in @dangerous or @admin, and
none of SCAN, RANDOMKEY, DBSIZE, PUBSUB CHANNELS, CLIENT LIST or TRACKING,
FUNCTION, SCRIPT, MEMORY or CLUSTER, which list or act beyond the namespace,
even through --allow.
--user names the user (default: the namespace), --password sets its password
(default: nopass). --redis-ipc also grants redis-ipc's global queues, hashes
and channels, RPUSH, BLPOP and CLIENT UNBLOCK, and listening to the events and
debug messages of every component; Redis allows PSUBSCRIBE only of patterns the
ACL lists as they are, so listening by component needs those components in
--redis-ipc-components (which implies --redis-ipc). --allow adds the commands an
application sends itself with system.command() (e.g. lpush,ltrim,lrange or
@list), still on the namespace's keys only. --apply runs the line on the server
(with --url or REDIS_URL of a user allowed to run ACL SETUSER) instead of
printing it. Then connect as that user: redis://<user>:<password>@host:port.
--cluster also grants what a Redis Cluster needs (SPUBLISH, SSUBSCRIBE,
SUNSUBSCRIBE, PUBSUB SHARDNUMSUB and SHARDCHANNELS, CLUSTER SLOTS, ASKING); it is
implied by a redis+cluster:// URL with --apply, which runs the line on every
node (each node keeps its own users).
See docs/SECURITY.md for what this isolates and what it does not.`,
  options: {
    user: { type: 'string' },
    password: { type: 'string' },
    'redis-ipc': { type: 'boolean' },
    'redis-ipc-components': { type: 'string' },
    allow: { type: 'string' },
    apply: { type: 'boolean' },
    cluster: { type: 'boolean' },
  },
  async run({ positionals, values }, global) {
    const [namespace, ...extra] = positionals;
    if (namespace === undefined) throw new UsageError('acl needs a <namespace>');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const options = {
      ...(typeof values.user === 'string' ? { user: values.user } : {}),
      ...(typeof values.password === 'string' ? { password: values.password } : {}),
      redisIpc: values['redis-ipc'] === true,
      allow: list(values.allow),
      redisIpcComponents: list(values['redis-ipc-components']),
      cluster: values.cluster === true,
    };
    if (values.apply !== true) {
      process.stdout.write(`${namespaceAclLine(namespace, options)}\n`);
      return EXIT.ok;
    }
    const url = resolveUrl(global);
    if (isClusterUrl(url)) {
      const args = namespaceAclArguments(namespace, { ...options, cluster: true });
      const nodes = await commandOnEveryNode(
        url,
        ['ACL', 'SETUSER', ...args],
        tlsFromEnvironment(),
      );
      process.stdout.write(
        `user "${args[0] ?? namespace}" may now use namespace "${namespace}" on all ${nodes.length} nodes\n`,
      );
      return EXIT.ok;
    }
    const args = namespaceAclArguments(namespace, options);
    await withSystem(global, (system) => system.command(['ACL', 'SETUSER', ...args]));
    // The password stays off the terminal: it is in the caller's command line already.
    process.stdout.write(`user "${args[0] ?? namespace}" may now use namespace "${namespace}"\n`);
    return EXIT.ok;
  },
};
