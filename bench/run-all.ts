/**
 * `npm run bench [-- --quick] [-- --base <checkout>] [-- --presence]`: the main
 * bench (bench/main.ts, with every argument), then the cluster rows
 * (bench/cluster.ts, with `--quick` when given) in their own process, one
 * after the other so that neither measures with the other running. The
 * cluster rows are left out with `--presence` (only those rows) and
 * `--base` (a comparison of two versions on one redis-server).
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
const clusterRows = !args.includes('--presence') && !args.some((arg) => arg.startsWith('--base'));
const clusterCode = clusterRows
  ? await run('cluster.ts', args.includes('--quick') ? ['--quick'] : [])
  : 0;
process.exitCode = mainCode !== 0 ? mainCode : clusterCode;
