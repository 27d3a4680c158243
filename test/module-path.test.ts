/**
 * How child modules are found and started, with and without tsx. tsx is an
 * optional peer dependency, installed here as a devDependency: "tsx is missing"
 * is simulated by injecting a resolver that throws as import.meta.resolve does,
 * and, for the CLI, by a resolve hook that hides tsx from the whole process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { SpawnError } from '../src/index.js';
import {
  TSX_INSTALL_COMMAND,
  TypeScriptLoaderMissingError,
  type TsxResolver,
  resolveChildModule,
} from '../src/supervision/index.js';
import { resolveChildSpec } from '../src/supervision/supervisor-options.js';
import {
  assertBuildIsCurrent,
  isRunning,
  repoRoot,
  runCommand,
  startSystem,
  uniqueNamespace,
} from './helpers.js';

const FAKE_TSX_URL = 'file:///somewhere/node_modules/tsx/dist/loader.mjs';
const tsxInstalled: TsxResolver = () => FAKE_TSX_URL;
const tsxMissing: TsxResolver = () => {
  throw Object.assign(new Error(`Cannot find package 'tsx'`), { code: 'ERR_MODULE_NOT_FOUND' });
};

/** A TypeScript module of the user's own, outside this package: it has no built twin. */
function userTypeScriptModule(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-actors-user-'));
  onTestFinished(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const file = path.join(dir, 'worker.ts');
  fs.writeFileSync(file, 'export {};\n');
  return file;
}

/** Runs `body` with exactly `flags` as this process's Node options (children inherit conditions). */
function withExecArgv<T>(flags: string[], body: () => T): T {
  const saved = process.execArgv;
  process.execArgv = flags;
  try {
    return body();
  } finally {
    process.execArgv = saved;
  }
}

const BUILT_CLOCK = path.join(repoRoot, 'dist', 'actors', 'clock.js');

describe('child module resolution', () => {
  beforeAll(assertBuildIsCurrent);

  it('runs a TypeScript module through tsx when tsx resolves', () => {
    const module = resolveChildModule('actors/clock.ts', repoRoot, tsxInstalled);
    expect(module.path).toBe(path.join(repoRoot, 'actors', 'clock.ts'));
    expect(module.execArgv.slice(-2)).toEqual(['--import', FAKE_TSX_URL]);
  });

  it('without tsx, runs a TypeScript module of this package from its built twin in dist/', () => {
    // From a checkout (the source is in the working directory) and from a user's
    // project (found in the installed package): the same built file, no loader.
    for (const cwd of [repoRoot, os.tmpdir()]) {
      const module = resolveChildModule('actors/clock.ts', cwd, tsxMissing);
      expect(module.path).toBe(BUILT_CLOCK);
      expect(module.execArgv).not.toContain('--import');
    }
  });

  it('without tsx, drops the source condition for the twin but keeps other conditions', () => {
    const module = withExecArgv(['--conditions=source', '-C', 'custom'], () =>
      resolveChildModule('actors/clock.ts', repoRoot, tsxMissing),
    );
    expect(module).toEqual({ path: BUILT_CLOCK, execArgv: ['--conditions=custom'] });
    const withTsx = withExecArgv(['--conditions=source'], () =>
      resolveChildModule('actors/clock.ts', repoRoot, tsxInstalled),
    );
    expect(withTsx.execArgv).toEqual(['--conditions=source', '--import', FAKE_TSX_URL]);
  });

  it('never asks for tsx for a JavaScript module', () => {
    let asked = 0;
    const module = withExecArgv([], () =>
      resolveChildModule('dist/actors/clock.js', repoRoot, () => {
        asked++;
        return tsxMissing();
      }),
    );
    expect(module).toEqual({ path: BUILT_CLOCK, execArgv: [] });
    expect(asked).toBe(0);
  });

  it('without tsx and without a built twin, says what to install', () => {
    const userModule = userTypeScriptModule();
    const error = captureError(() => resolveChildModule(userModule, repoRoot, tsxMissing));
    expect(error).toBeInstanceOf(TypeScriptLoaderMissingError);
    expect(error).toMatchObject({ typescriptPath: userModule, builtTwinPath: undefined });
    expect((error as Error).message).toBe(
      `"${userModule}" is TypeScript (${userModule}), which runs through the tsx loader, but tsx ` +
        `is not installed. Install it with \`npm install --save-dev tsx\`, or spawn the module's ` +
        `compiled JavaScript instead`,
    );
    // A TypeScript file of this checkout that is not built (tests are not) names where it looked.
    const fixture = captureError(() =>
      resolveChildModule('test/fixtures/worker.ts', repoRoot, tsxMissing),
    );
    const twin = path.join(repoRoot, 'dist', 'test', 'fixtures', 'worker.js');
    expect(fixture).toMatchObject({ builtTwinPath: twin });
    expect((fixture as Error).message).toContain(`there is no built JavaScript of it at ${twin}`);
    expect((fixture as Error).message).toContain(TSX_INSTALL_COMMAND);
  });

  it('turns a missing loader into SpawnError loader-missing when a supervisor resolves a child', () => {
    const userModule = userTypeScriptModule();
    const error = captureError(() =>
      resolveChildSpec({ name: 'worker', module: userModule }, [], tsxMissing),
    );
    expect(error).toBeInstanceOf(SpawnError);
    expect(error).toMatchObject({
      code: 'SPAWN_FAILED',
      reason: 'loader-missing',
      childName: 'worker',
      module: userModule,
      exitCode: null,
      signal: null,
      stderrTail: [],
    });
    const { message } = error as SpawnError;
    expect(message).toMatch(/^child "worker" \(.*worker\.ts\) is TypeScript/);
    expect(message).toContain('Install it with `npm install --save-dev tsx`');
    // No process ran: nothing about its stderr or how to debug its start.
    expect(message).not.toContain('stderr');
    expect(message).not.toContain('runActor');
  });

  it('resolves a child spec through the twin when tsx is missing', () => {
    const spec = resolveChildSpec({ name: 'clock', module: 'actors/clock.ts' }, [], tsxMissing);
    expect(spec).toMatchObject({ modulePath: BUILT_CLOCK, module: 'actors/clock.ts' });
    expect(spec.execArgv).not.toContain('--import');
  });
});

/** A resolve hook under which `tsx` cannot be found, as if it were not installed. */
const TSX_HIDING_HOOK = `export async function resolve(specifier, context, next) {
  if (specifier === 'tsx' || specifier.startsWith('tsx/')) {
    throw Object.assign(new Error('tsx is hidden by the test'), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}`;
/** For `node --import`: registers the hook, so `import.meta.resolve('tsx')` throws in that process. */
const HIDE_TSX = dataUrl(
  `import { register } from 'node:module'; register(${JSON.stringify(dataUrl(TSX_HIDING_HOOK))});`,
);

function dataUrl(source: string): string {
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

/** `redis-actors spawn …` from the built CLI, in a process where tsx cannot be found. */
function spawnWithoutTsx(args: string[], namespace: string) {
  return runCommand(
    process.execPath,
    ['--import', HIDE_TSX, path.join('dist', 'src', 'cli', 'main.js'), 'spawn', ...args],
    { REDIS_ACTORS_NAMESPACE: namespace },
  );
}

describe('redis-actors spawn without tsx', () => {
  beforeAll(assertBuildIsCurrent);

  it('runs a TypeScript actor of this package from its built JavaScript', async () => {
    const namespace = uniqueNamespace();
    const spawned = spawnWithoutTsx(['actors/clock.ts', '--name', 'built-clock'], namespace);
    const line = await spawned.waitForLine(/^spawned built-clock /);
    const pid = Number(/pid (\d+)/.exec(line)?.[1]);
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain(BUILT_CLOCK);
    expect(cmdline).not.toContain('--import');
    expect(cmdline.some((arg) => arg.includes('tsx'))).toBe(false);
    const client = await startSystem({ namespace });
    const time = await client.ask<{ iso: string }>('built-clock', 'time');
    expect(Date.parse(time.iso)).toBeGreaterThan(0);
    spawned.signalGroup('SIGINT');
    expect((await spawned.exited).code).toBe(0);
    expect(isRunning(pid)).toBe(false);
  });

  it('refuses other TypeScript with the command that fixes it, and exits 1', async () => {
    const spawned = spawnWithoutTsx(['test/fixtures/worker.ts'], uniqueNamespace());
    const { code } = await spawned.exited;
    expect(code).toBe(1);
    const output = spawned.lines.join('\n');
    expect(output).toMatch(
      /child "worker" \(test\/fixtures\/worker\.ts\) is TypeScript \(.*\), which runs through the tsx loader, but tsx is not installed/,
    );
    expect(output).toContain('Install it with `npm install --save-dev tsx`');
    expect(spawned.lines.some((line) => line.startsWith('spawned '))).toBe(false);
  });
});

function captureError(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}
