/**
 * The package as users get it: dist/, built by `npm run build` (npm install runs
 * it), imported by name through the exports map. The code base's own hygiene
 * (TypeScript, ESLint, Prettier, layering) is checked outside the test run, by
 * `npm run typecheck` and `npm run lint`, which CI (.ci/run) runs too.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, assertBuildIsCurrent } from './helpers.js';

const run = promisify(execFile);

describe('the built package', () => {
  beforeAll(assertBuildIsCurrent);

  it('imports by name from dist/ through the exports map, with its public API', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const api = await import('redis-actors'); console.log(Object.keys(api).sort().join(' '));",
      ],
      { cwd: repoRoot },
    );
    const names = stdout.trim().split(' ');
    for (const name of [
      'ActorSystem',
      'ActorRef',
      'defineActor',
      'findBroker',
      'AskTimeoutError',
      'RemoteError',
    ]) {
      expect(names).toContain(name);
    }
    const { stdout: resolved } = await run(
      process.execPath,
      ['--input-type=module', '-e', "console.log(import.meta.resolve('redis-actors'))"],
      { cwd: repoRoot },
    );
    expect(resolved.trim()).toMatch(/\/dist\/src\/index\.js$/);
  });
});
