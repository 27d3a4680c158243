/**
 * Spawn to READY: a supervised child actor (dist/actors/clock.js) against a
 * bare `node` that connects to Redis and exits, interleaved; and the RSS of
 * an idle actor process.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ActorSystem, Supervisor } from 'redis-actors';
import { median } from './report.js';

const benchDir = path.dirname(new URL(import.meta.url).pathname);
const repoRoot = path.resolve(benchDir, '..');

export async function measureSpawn(options: {
  url: string;
  namespace: string;
  socketPath: string;
  count: number;
}) {
  const { url, namespace, socketPath } = options;
  const system = await ActorSystem.start({ url, namespace });
  const supervisor = await Supervisor.start(system, { output: 'ignore' });
  const ours: number[] = [];
  const bare: number[] = [];
  let idleRssKb = 0;
  const spawnBare = () =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [path.join(benchDir, 'roles/bare-connect.mjs'), socketPath],
        {
          stdio: 'inherit',
        },
      );
      child.once('exit', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`bare-connect exited ${code}`));
      });
    });
  try {
    // Interleaved, so that both see the same machine.
    for (let i = 0; i < options.count; i++) {
      let started = performance.now();
      const child = await supervisor.spawn({
        name: `clock-${i}`,
        module: path.join(repoRoot, 'dist/actors/clock.js'),
      });
      ours.push(performance.now() - started);
      // Let the new child finish booting (its watchdog thread) before timing the next process.
      await new Promise((resolve) => setTimeout(resolve, 150));
      started = performance.now();
      await spawnBare();
      bare.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 150));
      if (i === 0) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
        idleRssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      }
    }
  } finally {
    await supervisor.stop();
    await system.stop();
  }
  return {
    oursP50Ms: median(ours),
    bareP50Ms: median(bare),
    idleRssMb: idleRssKb / 1024,
    ours,
    bare,
  };
}
