import { namespaceAclArguments, namespaceAclLine } from '../internal.js';
import type { Command } from './command.js';
import { withSystem } from './connect.js';
import { EXIT, UsageError } from './usage.js';

export const aclCommand: Command = {
  name: 'acl',
  summary: 'print (or apply) the Redis ACL user a namespace needs',
  help: `usage: redis-actors acl <namespace> [--user u] [--password p] [--redis-ipc] [--apply]

Prints the ACL SETUSER line of a Redis user that may use namespace <namespace>
and nothing else: its keys (~<namespace>:*), its channels (&<namespace>:*), the
commands redis-actors sends, and nothing in @dangerous; SCAN, RANDOMKEY,
PUBSUB CHANNELS and CLIENT LIST, which would list other namespaces' names, are
denied too. --user names the user (default: the namespace), --password sets
its password (default: nopass). --redis-ipc also grants redis-ipc's global
queues, hashes and channels. --apply runs the line on the server (with --url
or REDIS_URL of a user allowed to run ACL SETUSER) instead of printing it.
Then connect as that user: redis://<user>:<password>@host:port. See
docs/SECURITY.md for what this isolates and what it does not.`,
  options: {
    user: { type: 'string' },
    password: { type: 'string' },
    'redis-ipc': { type: 'boolean' },
    apply: { type: 'boolean' },
  },
  async run({ positionals, values }, global) {
    const [namespace, ...extra] = positionals;
    if (namespace === undefined) throw new UsageError('acl needs a <namespace>');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const options = {
      ...(typeof values.user === 'string' ? { user: values.user } : {}),
      ...(typeof values.password === 'string' ? { password: values.password } : {}),
      redisIpc: values['redis-ipc'] === true,
    };
    if (values.apply !== true) {
      process.stdout.write(`${namespaceAclLine(namespace, options)}\n`);
      return EXIT.ok;
    }
    const args = namespaceAclArguments(namespace, options);
    await withSystem(global, (system) => system.command(['ACL', 'SETUSER', ...args]));
    // The password stays off the terminal: it is in the caller's command line already.
    process.stdout.write(`user "${args[0] ?? namespace}" may now use namespace "${namespace}"\n`);
    return EXIT.ok;
  },
};
