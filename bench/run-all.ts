/**
 * `npm run bench [-- --quick] [-- --base <checkout>] [-- --presence]`: the main
 * bench (bench/main.ts, with every argument), then the durable-mailbox rows
 * (bench/durable.ts) and the cluster rows (bench/cluster.ts), each with
 * `--quick` when given, each in its own process, one after the other so
 * that none measures with another running. The durable and cluster rows are
 * left out with `--presence` (only those rows) and `--base` (a comparison of
 * two versions on one redis-server).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const benchDir = path.dirname(new URL(import.meta.url).pathname);
const args = process.argv.slice(2);

function run(file: string, fileArgs: string[]): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(benchDir, file), ...fileArgs],
    {
      stdio: 'inherit',
    },
  );
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

const mainCode = await run('main.ts', args);
const otherParts = !args.includes('--presence') && !args.some((arg) => arg.startsWith('--base'));
const partArgs = args.includes('--quick') ? ['--quick'] : [];
const durableCode = otherParts ? await run('durable.ts', partArgs) : 0;
const clusterCode = otherParts ? await run('cluster.ts', partArgs) : 0;
process.exitCode = [mainCode, durableCode, clusterCode].find((code) => code !== 0) ?? 0;
