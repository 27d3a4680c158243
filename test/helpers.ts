/** Shared test helpers: per-test namespaces, systems that stop themselves, raw clients, child processes. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { inject, onTestFinished } from 'vitest';
import {
  ActorSystem,
  type ActorSystemOptions,
  type Logger,
  type RunningRedisServer,
  startRedisServer,
} from '../src/index.js';
import { parseRedisUrl } from '../src/transport/redis-url.js';

export const repoRoot = path.resolve(import.meta.dirname, '..');

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A namespace no other test uses. */
export function uniqueNamespace(): string {
  return `t${nanoid(10).replace(/[^\w]/g, 'x')}`;
}

/** A logger that keeps its lines, so tests can check what was logged. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => {
    lines.push(`${level}: ${message}`);
  };
  return {
    lines,
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
  };
}

/** Starts an actor system on the test Redis, stopped when the test ends. */
export async function startSystem(options: ActorSystemOptions = {}): Promise<ActorSystem> {
  const system = await ActorSystem.start({ url: redisUrl(), logger: captureLogger(), ...options });
  onTestFinished(() => system.stop());
  return system;
}

/** A plain ioredis client, independent of the framework, closed when the test ends. */
export function rawClient(): Redis {
  const endpoint = parseRedisUrl(redisUrl());
  const client =
    endpoint.kind === 'unix'
      ? new Redis({ path: endpoint.path })
      : new Redis({ host: endpoint.host, port: endpoint.port });
  onTestFinished(() => {
    client.disconnect();
  });
  return client;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A child process whose output lines can be awaited. */
export interface Child {
  process: ChildProcess;
  pid: number;
  /** Every line printed so far, stdout and stderr. */
  lines: string[];
  /** Lines printed on stdout only. */
  stdout: string[];
  /** Resolves with the first line (past or future) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves once `count` lines (past or future) match `pattern`, with those lines. */
  waitForLines(pattern: RegExp, count: number, timeoutMs?: number): Promise<string[]>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends the child's standard input. */
  closeStdin(): void;
  /** Signals the child's whole process group, as Ctrl-C in a terminal does. */
  signalGroup(signal: NodeJS.Signals): void;
}

/** `npx redis-actors <args>` (the built CLI) in `namespace`; see {@link runCommand}. */
export function redisActorsCli(
  args: string[],
  namespace: string,
  env: NodeJS.ProcessEnv = {},
): Child {
  return runCommand('npx', ['--offline', 'redis-actors', ...args], {
    REDIS_ACTORS_NAMESPACE: namespace,
    ...env,
  });
}

/** {@link redisActorsCli} run to its end: its exit code and its standard output. */
export async function runRedisActorsCli(
  args: string[],
  namespace: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string }> {
  const child = redisActorsCli(args, namespace, env);
  const { code } = await child.exited;
  return { code, stdout: child.stdout.join('\n') };
}

/** Runs a TypeScript file of the repo (`node --import tsx <file> …args`); see {@link runCommand}. */
export function runTs(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
  return runCommand(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', file, ...args],
    env,
  );
}

/**
 * Runs a command from the repo root with REDIS_URL set to the test Redis, in a
 * process group of its own; the group is killed (SIGKILL) when the test ends.
 */
export function runCommand(
  command: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Child {
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, REDIS_URL: redisUrl(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const waitForLines = (pattern: RegExp, count: number, timeoutMs = 20_000): Promise<string[]> => {
    const found = matching(pattern);
    if (found.length >= count) return Promise.resolve(found.slice(0, count));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `fewer than ${count} lines matching ${pattern} within ${timeoutMs} ms; output:\n${lines.join('\n')}`,
          ),
        );
      }, timeoutMs);
      waiters.push({
        pattern,
        count,
        resolve: (matched) => {
          clearTimeout(timer);
          resolve(matched);
        },
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(
            `exited (code ${code}, signal ${signal}) before ${count} lines matching ${pattern}; output:\n${lines.join('\n')}`,
          ),
        );
      });
    });
  };
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid ?? 0), signal);
    } catch {
      // The group is gone already.
    }
  };
  const lines: string[] = [];
  const stdout: string[] = [];
  const waiters: { pattern: RegExp; count: number; resolve: (lines: string[]) => void }[] = [];
  const matching = (pattern: RegExp): string[] => lines.filter((line) => pattern.test(line));
  const onLine = (line: string): void => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      const found = matching(waiter.pattern);
      if (found.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(found.slice(0, waiter.count));
      }
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) {
        if (stream === child.stdout) stdout.push(part);
        onLine(part);
      }
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': every line the child printed has been read by then.
    child.once('close', (code, signal) => {
      resolve({ code, signal });
    });
  });
  onTestFinished(() => {
    signalGroup('SIGKILL');
  });
  return {
    process: child,
    pid: child.pid ?? -1,
    lines,
    stdout,
    exited,
    closeStdin: () => child.stdin.end(),
    signalGroup,
    waitForLine(pattern, timeoutMs) {
      return waitForLines(pattern, 1, timeoutMs).then((found) => found[0] ?? '');
    },
    waitForLines,
  };
}

/** A free TCP port on 127.0.0.1 (released before returning, so a tiny race remains). */
export { freePort } from '../src/broker/local-cluster.js';

/** A redis-server of this test's own (it may be killed or reconfigured), stopped when the test ends. */
export async function startOwnRedis(
  options: { port?: number; args?: string[] } = {},
): Promise<RunningRedisServer> {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-own-redis-'));
  const server = await startRedisServer({
    dir,
    port: options.port ?? 0,
    extraArgs: options.args ?? [],
  });
  onTestFinished(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return server;
}

/** Whether `pid` still runs. An exited process not yet reaped (a zombie, state Z) does not. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * For tests that run the built package (`npx redis-actors`, dist/actors): fails
 * at once, with what to do, when dist/ is missing or was built from other
 * sources. By content, not mtimes (a fresh clone's mtimes say nothing): the
 * build writes a digest of src/ and actors/ to dist/source-digest.txt, and
 * scripts/source-digest.mjs recomputes it here.
 */
export function assertBuildIsCurrent(): void {
  const digestFile = path.join(repoRoot, 'dist', 'source-digest.txt');
  if (!existsSync(digestFile) || !existsSync(path.join(repoRoot, 'dist', 'src', 'index.js'))) {
    throw new Error(
      'dist/ is missing or incomplete: run `npm run build` (npm install does it too)',
    );
  }
  const built = readFileSync(digestFile, 'utf8').trim();
  const current = execFileSync(
    process.execPath,
    [path.join(repoRoot, 'scripts', 'source-digest.mjs')],
    { cwd: repoRoot, encoding: 'utf8' },
  ).trim();
  if (built !== current) {
    throw new Error(
      'dist/ was built from other sources than src/ and actors/ hold now: run `npm run build`',
    );
  }
}
