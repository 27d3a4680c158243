import { findBroker } from '../index.js';
import type { Command } from './command.js';
import { EXIT } from './usage.js';

export const brokerCommand: Command = {
  name: 'broker',
  summary: 'run the private Redis in the foreground and print its REDIS_URL',
  help: `usage: redis-actors broker [--dir path]

Starts a private redis-server on a unix socket (mode 700, no persistence) in
the per-user runtime directory (or --dir), prints REDIS_URL=… for other
processes (processes of this user also find it by themselves), and keeps it
running until Ctrl-C. If one already runs, prints its URL and exits.`,
  options: { dir: { type: 'string' } },
  async run({ values }) {
    const dir = values.dir as string | undefined;
    const broker = await findBroker({
      useEnv: false,
      ...(dir === undefined ? {} : { runtimeDir: dir }),
    });
    process.stdout.write(`REDIS_URL=${broker.url}\n`);
    if (!broker.owned) {
      process.stderr.write('a private broker already runs there (started by another process)\n');
      return EXIT.ok;
    }
    process.stderr.write(
      `${broker.source === 'container' ? 'redis:7 container' : 'private redis-server'} ready. ` +
        `Processes of this user find it by themselves; elsewhere: export REDIS_URL=${broker.url}\n` +
        'Ctrl-C stops it.\n',
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await broker.stop();
    process.stderr.write('broker stopped\n');
    return EXIT.ok;
  },
};
