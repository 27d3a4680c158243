/**
 * The code base's own hygiene, so that CI (which runs only `npm test`) holds it:
 * strict TypeScript, ESLint and Prettier must all be clean.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, assertBuildIsCurrent } from './helpers.js';

const run = promisify(execFile);

async function check(command: string, args: string[]): Promise<string> {
  try {
    await run(command, args, { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return `${stdout}${stderr}`.trim() || String(error);
  }
}

describe('static checks', () => {
  it('typechecks under strict TypeScript', async () => {
    expect(await check('node_modules/.bin/tsc', ['-p', 'tsconfig.json'])).toBe('');
  }, 120_000);

  it('passes ESLint', async () => {
    expect(await check('node_modules/.bin/eslint', ['.'])).toBe('');
  }, 120_000);

  it('is formatted with Prettier', async () => {
    expect(await check('node_modules/.bin/prettier', ['--check', '--log-level', 'warn', '.'])).toBe(
      '',
    );
  }, 120_000);
});

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
