/**
 * No password is ever printed by the CLI (`node dist/src/cli/main.js`, as
 * users run it): not by the monitor's banner while it works, over TCP or a
 * unix socket (`?password=`), and not by the errors of a wrong password, a
 * server that is gone, or a URL that does not parse. The password holds an
 * unescaped `@`, which URL parsing accepts (the last `@` of the authority ends
 * it): no part of it may show either.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defineActor } from '../../src/index.js';
import {
  assertBuildIsCurrent,
  captureLogger,
  freePort,
  runCommand,
  startOwnRedis,
  startSystem,
  uniqueNamespace,
} from '../helpers.js';

const PASSWORD = 'Sup3r-s3cret@pw-7f3a9c';
/** Every piece of the password a careless redaction could leave. */
const PIECES = [PASSWORD, ...PASSWORD.split('@'), encodeURIComponent(PASSWORD)];

function cli(args: string[], url: string, namespace = uniqueNamespace()) {
  return runCommand('node', ['dist/src/cli/main.js', ...args], {
    REDIS_URL: url,
    REDIS_ACTORS_NAMESPACE: namespace,
  });
}

/** Runs the CLI to its end: exit code and every line of stdout and stderr. */
async function run(args: string[], url: string) {
  const child = cli(args, url);
  const { code } = await child.exited;
  return { code, output: child.lines.join('\n') };
}

function expectNoPassword(output: string): void {
  for (const piece of PIECES) expect(output).not.toContain(piece);
}

describe('no password printed', () => {
  beforeAll(assertBuildIsCurrent);

  it('the monitor shows the URL with *** for the password while it monitors, over TCP and over a unix socket', async () => {
    const port = await freePort();
    const server = await startOwnRedis({ port, args: ['--requirepass', PASSWORD] });
    const urls = [
      {
        url: `redis://:${PASSWORD}@127.0.0.1:${port}`,
        shown: `redis://:***@127.0.0.1:${port}`,
      },
      {
        url: `${server.url}?password=${encodeURIComponent(PASSWORD)}`,
        shown: `${server.url}?password=***`,
      },
    ];
    for (const { url, shown } of urls) {
      const namespace = uniqueNamespace();
      const monitor = cli(['monitor'], url, namespace);
      const banner = await monitor.waitForLine(/^monitoring namespace/);
      expect(banner).toBe(`monitoring namespace "${namespace}" on ${shown}; Ctrl-C to stop`);
      // It is connected and decoding: a tell through the same server shows up.
      const system = await startSystem({ url, namespace, logger: captureLogger() });
      await system.spawn(defineActor({ handlers: { note: () => undefined } }), { name: 'sink' });
      await system.tell('sink', 'note', 'hello');
      await monitor.waitForLine(/tell\s+\S+ -> sink\s+note/);
      monitor.signalGroup('SIGINT');
      expect((await monitor.exited).code).toBe(0);
      expectNoPassword(monitor.lines.join('\n'));
    }
  });

  it('errors never show it: a wrong password, a server that is gone, a URL that does not parse', async () => {
    const port = await freePort();
    await startOwnRedis({ port, args: ['--requirepass', PASSWORD] });
    const gonePort = await freePort();

    const wrong = await run(['ls'], `redis://:${PASSWORD}-wrong@127.0.0.1:${port}`);
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(/WRONGPASS|NOAUTH|invalid (username-)?password/i);
    expect(wrong.output).toContain('refused the user or password: check the user:password part');
    const none = await run(['ls'], `redis://127.0.0.1:${port}`);
    expect(none.code).not.toBe(0);
    expect(none.output).toContain('The server needs a password: put it in the URL');

    for (const command of [['monitor'], ['ls'], ['ask', 'anyone', 'ping']]) {
      const gone = await run(command, `redis://user:${PASSWORD}@127.0.0.1:${gonePort}`);
      expect(gone.code, gone.output).toBe(6);
      expect(gone.output).toContain(`redis://user:***@127.0.0.1:${gonePort}`);
      expectNoPassword(gone.output);
    }

    const unparsable = await run(['ls'], `redis://:${PASSWORD}@127.0.0.1:not-a-port`);
    expect(unparsable.code).toBe(2);
    expect(unparsable.output).toContain('redis://:***@127.0.0.1:not-a-port');

    for (const { output } of [wrong, unparsable]) expectNoPassword(output);
  });
});
