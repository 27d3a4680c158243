/**
 * `npm run bench:dashboard [-- --actors 1000 --processes 10 --seconds 30]`:
 * what `redis-actors dashboard` costs with many actors. On a redis-server of
 * its own, it starts `--processes` processes hosting `--actors` named actors
 * between them (test/fixtures/many-actors.ts), then the built CLI's dashboard,
 * and measures over `--seconds` (after a 5 s warm-up) the dashboard process's
 * CPU (utime + stime from /proc) and its RSS, the size of one snapshot, and,
 * with a page open in Debian's chromium (when installed), the page's DOM nodes
 * and JS heap at the start and at the end of the interval and its scripting
 * time per second (Chrome DevTools Protocol `Performance.getMetrics`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { startRedisServer } from 'redis-actors';

const { values } = parseArgs({
  options: {
    actors: { type: 'string', default: '1000' },
    processes: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '30' },
  },
});
const actors = Number(values.actors);
const processes = Number(values.processes);
const seconds = Number(values.seconds);
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TICKS_PER_SECOND = 100;

function started(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((each) => pattern.test(each));
      if (line !== undefined) resolve(line);
    });
    child.once('exit', (code) => {
      reject(new Error(`exited (${code}) before printing ${pattern}`));
    });
  });
}

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function rssMiB(pid: number): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((each) => each.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1]) / 1024;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dashboard-'));
const redis = await startRedisServer({ dir });
const env = { ...process.env, REDIS_URL: redis.url, REDIS_ACTORS_NAMESPACE: 'benchdash' };
const children: ChildProcess[] = [];
try {
  const each = Math.ceil(actors / processes);
  for (let i = 0; i < processes; i++) {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'test/fixtures/many-actors.ts', `p${i}`],
      { cwd: repoRoot, env: { ...env, COUNT: String(each) }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    await started(child, /^READY /);
  }
  const dashboard = spawn(process.execPath, ['dist/src/cli/main.js', 'dashboard', '--port', '0'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(dashboard);
  const url = (await started(dashboard, / on http:/)).split(' on ')[1]?.trim() ?? '';
  const pid = dashboard.pid ?? 0;
  await wait(5000);
  const snapshotBytes = (await (await fetch(`${url}snapshot.json`)).text()).length;
  const browser = fs.existsSync(CHROMIUM)
    ? await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
    : undefined;
  const page = await browser?.newPage({ viewport: { width: 1400, height: 900 } });
  const cdp = page === undefined ? undefined : await page.context().newCDPSession(page);
  await cdp?.send('Performance.enable');
  await page?.goto(url);
  await wait(3000);
  const metrics = async () => {
    const reply = (await cdp?.send('Performance.getMetrics')) ?? { metrics: [] };
    return Object.fromEntries(reply.metrics.map((metric) => [metric.name, metric.value]));
  };
  const pageBefore = await metrics();
  const cpuBefore = cpuSeconds(pid);
  const rssBefore = rssMiB(pid);
  await wait(seconds * 1000);
  const cpuAfter = cpuSeconds(pid);
  const rssAfter = rssMiB(pid);
  const pageAfter = await metrics();
  await browser?.close();
  const listed = JSON.parse(await (await fetch(`${url}snapshot.json`)).text()) as {
    actors: unknown[];
    actorsOmitted: number;
    processes: unknown[];
  };
  const mib = (bytes: number | undefined) => ((bytes ?? 0) / 1024 / 1024).toFixed(1);
  console.log(`dashboard with ${actors} actors in ${processes} processes, over ${seconds} s:`);
  console.log(
    `  namespace as seen: ${listed.processes.length} processes, ${listed.actors.length + listed.actorsOmitted} actors (${listed.actors.length} in a snapshot)`,
  );
  console.log(
    `  dashboard process: CPU ${(((cpuAfter - cpuBefore) / seconds) * 100).toFixed(1)}% of a core, RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MiB`,
  );
  console.log(`  one snapshot: ${(snapshotBytes / 1024).toFixed(0)} kB of JSON`);
  if (page !== undefined) {
    const scripting =
      ((pageAfter.ScriptDuration ?? 0) - (pageBefore.ScriptDuration ?? 0)) / seconds;
    const layout =
      ((pageAfter.LayoutDuration ?? 0) +
        (pageAfter.RecalcStyleDuration ?? 0) -
        (pageBefore.LayoutDuration ?? 0) -
        (pageBefore.RecalcStyleDuration ?? 0)) /
      seconds;
    console.log(
      `  page: DOM nodes ${pageBefore.Nodes} -> ${pageAfter.Nodes}, JS heap ${mib(pageBefore.JSHeapUsedSize)} -> ${mib(pageAfter.JSHeapUsedSize)} MiB, ` +
        `script ${(scripting * 1000).toFixed(0)} ms/s, layout+style ${(layout * 1000).toFixed(0)} ms/s`,
    );
  } else {
    console.log(`  page: not measured (no chromium at ${CHROMIUM})`);
  }
} finally {
  for (const child of children) child.kill('SIGKILL');
  await redis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
