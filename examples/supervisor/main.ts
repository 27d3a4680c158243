/**
 * `npm run example:supervisor`: a supervisor spawns three workers, each a
 * process of its own, then asks each one who it is every two seconds. Kill a
 * worker with `kill -9 <pid>` from another terminal and watch the supervisor
 * bring it back under the same name with a new pid. Ctrl-C stops everything.
 */
import { runSupervisor, type ChildExit, type ChildInfo } from 'redis-actors';
import type { worker } from './worker.js';

const names = ['worker-1', 'worker-2', 'worker-3'];
const { system, supervisor } = await runSupervisor({
  strategy: 'one_for_one',
  children: names.map((name) => ({ name, module: 'examples/supervisor/worker.ts' })),
});
console.log(`supervisor ${supervisor.address} started ${names.length} workers:`);
for (const child of supervisor.children()) console.log(`  ${child.name}  pid ${child.pid}`);
console.log('try, in another terminal: kill -9 <one of those pids>');

supervisor.on('child-exited', (exit: ChildExit) => {
  const how = exit.signal ?? `exit code ${exit.code}`;
  console.log(
    `${exit.name} (pid ${exit.pid}) ${exit.reason === 'stopped' ? 'stopped' : `died: ${how}`}`,
  );
});
supervisor.on('child-started', (child: ChildInfo) => {
  console.log(`${child.name} is back with pid ${child.pid} (restart #${child.restarts})`);
});

const timer = setInterval(() => {
  void Promise.all(
    names.map((name) =>
      system
        .ref<typeof worker>(name)
        .ask('whoami', undefined, { timeoutMs: 1000 })
        .then(
          (me) => `${name}: pid ${me.pid}, up ${me.upSeconds}s`,
          (error: unknown) => `${name}: ${(error as Error).name}`,
        ),
    ),
  ).then((lines) => {
    console.log(lines.join(' | '));
  });
}, 2000);
process.once('SIGINT', () => {
  clearInterval(timer);
});
