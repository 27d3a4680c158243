/**
 * No password is ever printed: not by the monitor's banner, not by the CLI's
 * errors, whether the password is right, wrong, or the server is gone.
 */
import { describe, expect, it } from 'vitest';
import {
  assertBuildIsCurrent,
  freePort,
  runCommand,
  startOwnRedis,
  uniqueNamespace,
} from '../helpers.js';

const PASSWORD = 'Sup3r-s3cret-pw';

function cli(args: string[], url: string) {
  const child = runCommand('node', ['dist/src/cli/main.js', ...args], {
    REDIS_URL: url,
    REDIS_ACTORS_NAMESPACE: uniqueNamespace(),
  });
  return child;
}

describe('passwords in URLs', () => {
  it('the monitor banner, ls and connection errors never show the password', async () => {
    assertBuildIsCurrent();
    const port = await freePort();
    await startOwnRedis({ port, args: ['--requirepass', PASSWORD] });
    const url = `redis://:${PASSWORD}@127.0.0.1:${port}`;

    const monitor = cli(['monitor'], url);
    const banner = await monitor.waitForLine(/127\.0\.0\.1/, 15_000);
    expect(banner).toContain('***');
    monitor.signalGroup('SIGINT');
    await monitor.exited;

    const wrong = cli(['ls'], `redis://:${PASSWORD}-wrong@127.0.0.1:${port}`);
    const gonePort = await freePort();
    const gone = cli(['ls'], `redis://user:${PASSWORD}@127.0.0.1:${gonePort}`);
    const wrongExit = await wrong.exited;
    const goneExit = await gone.exited;
    expect(wrongExit.code).not.toBe(0);
    expect(goneExit.code).not.toBe(0);
    for (const child of [monitor, wrong, gone]) {
      expect(child.lines.join('\n')).not.toContain(PASSWORD);
    }
    expect(gone.lines.join('\n')).toContain(`127.0.0.1:${gonePort}`);
  });
});
