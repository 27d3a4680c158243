/** The README's examples, run as the README says, as real processes. */
import { describe, expect, it } from 'vitest';
import { runCommand, uniqueNamespace } from './helpers.js';

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
