/** The README's examples, run as the README says, as real processes. */
import { describe, expect, it } from 'vitest';
import { rawClient, runCommand, uniqueNamespace } from './helpers.js';

describe('README examples', () => {
  it('ping-pong: npm run example:pong, then npm run example:ping in another process', async () => {
    const env = { REDIS_ACTORS_NAMESPACE: uniqueNamespace() };
    const pong = runCommand('npm', ['run', '--silent', 'example:pong'], env);
    const listening = await pong.waitForLine(/^pong listens at /);
    const pongAddress = /^pong listens at (\S+) /.exec(listening)?.[1];
    const ping = runCommand('npm', ['run', '--silent', 'example:ping'], env);
    expect((await ping.exited).code).toBe(0);
    const pings = ping.stdout.filter((line) => line.startsWith('pong #'));
    expect(pings.map((line) => line.replace(/ {2}\(.*\)$/, ''))).toEqual([
      `pong #1 to "ping 1" from ${pongAddress}`,
      `pong #2 to "ping 2" from ${pongAddress}`,
      `pong #3 to "ping 3" from ${pongAddress}`,
    ]);
    expect(await pong.waitForLine(/^note from /)).toMatch(
      /^note from \S+-\d+: hello from \S+-\d+$/,
    );
    pong.signalGroup('SIGINT');
    await pong.waitForLine(/^pong stopped$/);
    // npm itself dies of the SIGINT, as it does at a terminal; the example stopped cleanly.
    await pong.exited;
  });

  it('ping without pong says what to do and exits non-zero', async () => {
    const ping = runCommand('npm', ['run', '--silent', 'example:ping'], {
      REDIS_ACTORS_NAMESPACE: uniqueNamespace(),
    });
    expect(await ping.waitForLine(/nobody answers/)).toBe(
      'nobody answers as "pong": start it first with npm run example:pong',
    );
    expect((await ping.exited).code).toBe(1);
  });
});

describe('README supervisor example', () => {
  it('spawns 3 workers, asks each, brings back one killed with kill -9, stops cleanly on Ctrl-C', async () => {
    const example = runCommand('npm', ['run', '--silent', 'example:supervisor'], {
      REDIS_ACTORS_NAMESPACE: uniqueNamespace(),
    });
    const started = await example.waitForLines(/^ {2}worker-\d {2}pid \d+$/, 3);
    const pids = started.map((line) => Number(line.split(' ').pop()));
    await example.waitForLine(/^worker-1: pid \d+, up \d+s \| worker-2: pid \d+/);
    process.kill(pids[1] ?? 0, 'SIGKILL');
    expect(await example.waitForLine(/^worker-2 \(pid \d+\) died/)).toBe(
      `worker-2 (pid ${pids[1]}) died: SIGKILL`,
    );
    const back = await example.waitForLine(/^worker-2 is back with pid \d+ \(restart #1\)$/);
    const newPid = Number(/pid (\d+)/.exec(back)?.[1]);
    expect(newPid).not.toBe(pids[1]);
    await example.waitForLine(new RegExp(`worker-2: pid ${newPid}, up`));
    example.signalGroup('SIGINT');
    await example.waitForLines(/^worker-\d \(pid \d+\) stopped$/, 3);
    await example.exited;
  });
});

describe('README redis-ipc printer example', () => {
  it('serves print, cancel and status; the client shows job ids; watchers get warnings', async () => {
    const component = `printer-${uniqueNamespace()}`;
    // Fast, with little paper: its settings hash, as redis-ipc's "db" component would write it.
    await rawClient().hset(`settings.${component}`, {
      'pages-per-minute': '6000',
      paper: '6',
      'low-paper': '3',
    });
    const printer = runCommand('npm', [
      'run',
      '--silent',
      'printer',
      '--',
      '--component',
      component,
    ]);
    await printer.waitForLine(/ serving queues\.commands\./);
    const runClient = (...args: string[]) =>
      runCommand('npm', [
        'run',
        '--silent',
        'printer:client',
        '--',
        '--component',
        component,
        ...args,
      ]);
    const client = async (...args: string[]) => {
      const run = runClient(...args);
      const { code } = await run.exited;
      return { code, stdout: run.stdout.join('\n'), output: run.lines.join('\n') };
    };
    const watch = runClient('watch');
    await watch.waitForLine(/^watching /);

    expect(await client('print', 'report.pdf', '--pages', '2')).toMatchObject({
      code: 0,
      stdout: '{"job-id":"1"}',
    });
    await printer.waitForLine(/^job 1 done: report\.pdf, 2 pages$/);
    expect((await client('print', 'big.pdf', '--pages', '10')).stdout).toBe('{"job-id":"2"}');
    await watch.waitForLine(/^warning: paper low: 3 sheets left$/);
    await watch.waitForLine(/^warning: out of paper$/);
    expect(JSON.parse((await client('status')).stdout)).toMatchObject({
      state: 'out-of-paper',
      'current-job': '2',
      paper: '0',
    });
    expect(JSON.parse((await client('cancel', '2')).stdout)).toEqual({
      cancelled: '2',
      printed: 4,
    });
    const missing = await client('cancel', '9');
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/no job \\"9\\"/);

    printer.signalGroup('SIGINT');
    await printer.waitForLine(/ stopped$/);
    expect(await rawClient().hget(`status.${component}`, 'state')).toBe('offline');
  });
});
