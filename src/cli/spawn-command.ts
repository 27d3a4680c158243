import path from 'node:path';
import {
  type ChildExit,
  type ChildInfo,
  type ChildSpec,
  type RestartType,
  runSupervisor,
} from '../index.js';
import type { Command } from './command.js';
import { UsageError, parsePositiveInteger } from './usage.js';

export const spawnCommand: Command = {
  name: 'spawn',
  summary: 'run actors of a module under a supervisor, in the foreground',
  help: `usage: redis-actors spawn <module> [--name n] [--count k] [--durable] [--restart permanent|transient|temporary]

Starts a supervisor that spawns <module> (a file calling runActor(), e.g.
actors/clock.ts) k times, restarts children that die, and forwards their
output. Ctrl-C stops them all. Names: n (default: the module's file name),
or n-1 … n-k when k > 1.
With --durable, the actor has a durable mailbox (a Redis Stream that keeps
its messages across restarts); with --count k too, the k children n-1 … n-k
are one pool: every one an actor named n, each message handled by one of them.
Examples:
  redis-actors spawn actors/clock.ts --name clock
  redis-actors spawn worker.ts --name w --count 4 --durable`,
  options: {
    name: { type: 'string' },
    count: { type: 'string' },
    durable: { type: 'boolean' },
    restart: { type: 'string' },
  },
  async run({ positionals, values }, global) {
    const [module, ...extra] = positionals;
    if (module === undefined) throw new UsageError('spawn needs a <module>');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const count = parsePositiveInteger('--count', values.count as string | undefined, 1);
    const name =
      (values.name as string | undefined) ?? path.basename(module).replace(/\.[^.]+$/, '');
    const restart = (values.restart as string | undefined) ?? 'permanent';
    if (!['permanent', 'transient', 'temporary'].includes(restart)) {
      throw new UsageError(`--restart must be permanent, transient or temporary, got "${restart}"`);
    }
    const children: ChildSpec[] =
      values.durable === true
        ? [{ name, module, count, restart: restart as RestartType, mailbox: { durable: true } }]
        : Array.from({ length: count }, (_, i) => ({
            name: count === 1 ? name : `${name}-${i + 1}`,
            module,
            restart: restart as RestartType,
          }));
    const { supervisor } = await runSupervisor({
      children,
      system: {
        ...(global.url === undefined ? {} : { url: global.url }),
        ...(global.namespace === undefined ? {} : { namespace: global.namespace }),
      },
    });
    for (const child of supervisor.children()) {
      process.stderr.write(`spawned ${child.name} (pid ${child.pid}, ${child.address ?? '?'})\n`);
    }
    process.stderr.write('Ctrl-C stops them\n');
    supervisor.on('child-exited', (exit: ChildExit) => {
      const how = exit.signal ?? `code ${exit.code}`;
      process.stderr.write(
        `${exit.name} (pid ${exit.pid}) ${exit.reason === 'stopped' ? 'stopped' : `exited: ${how}`}\n`,
      );
    });
    supervisor.on('child-started', (child: ChildInfo) => {
      process.stderr.write(
        `restarted ${child.name} (pid ${child.pid}, restart #${child.restarts})\n`,
      );
    });
    // runSupervisor exits the process on Ctrl-C, SIGTERM or escalation.
    return new Promise<number>(() => undefined);
  },
};
