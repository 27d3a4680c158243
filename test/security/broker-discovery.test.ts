/**
 * Broker discovery trusts only what the user owns. A process with no REDIS_URL
 * (a real child process, its environment controlled: XDG_RUNTIME_DIR set to a
 * directory of the test, or unset with TMPDIR pointing at one) looks for the
 * private broker's `broker.url`. A runtime directory or `broker.url` planted by
 * another uid, open to others, or a symbolic link (even a dangling one), or a
 * socket of another uid, is refused with BrokerNotFoundError naming the path
 * and the reason and pointing to XDG_RUNTIME_DIR / REDIS_URL; and the
 * "attacker's" redis-server that the planted file names receives no
 * connection and no command (INFO stats and commandstats, before and after).
 * A directory of the user's own, mode 700, still leads to its broker.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunningRedisServer } from '../../src/index.js';
import { assertBuildIsCurrent, runCommand, runTs, startOwnRedis } from '../helpers.js';

const isRoot = process.getuid?.() === 0;
const uid = process.getuid?.() ?? 0;
/** Another user: nobody. */
const OTHER = 65534;

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ra-discovery-'));
  onTestFinished(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * Where a process looks for its broker: `$XDG_RUNTIME_DIR/redis-actors`, or
 * with XDG_RUNTIME_DIR unset `$TMPDIR/redis-actors-<uid>` (the shared /tmp
 * case, where another user can plant). Nothing is created at `dir`.
 */
function layout(kind: 'xdg' | 'tmp') {
  const base = tempDir();
  const home = path.join(base, 'home');
  fs.mkdirSync(home);
  const env: NodeJS.ProcessEnv = {
    REDIS_URL: '',
    HOME: home,
    XDG_RUNTIME_DIR: kind === 'xdg' ? base : '',
    TMPDIR: base,
  };
  const dir = path.join(base, kind === 'xdg' ? 'redis-actors' : `redis-actors-${uid}`);
  return { base, env, dir, file: path.join(dir, 'broker.url') };
}

/** A runtime directory at `dir` (mode 700) whose broker.url (mode 600) says `url`. */
function writeRuntimeDir(dir: string, url: string): string {
  fs.mkdirSync(dir, { mode: 0o700 });
  const file = path.join(dir, 'broker.url');
  fs.writeFileSync(file, `${url}\n`, { mode: 0o600 });
  return file;
}

/** What reached `server` between this call and the call of the function it returns. */
async function watchTraffic(server: RunningRedisServer) {
  const probe = new Redis({ path: server.socketPath, enableReadyCheck: false, lazyConnect: true });
  onTestFinished(() => {
    probe.disconnect();
  });
  await probe.connect();
  const snapshot = async () => {
    const info = String(await probe.call('INFO', 'stats', 'commandstats'));
    const connections = Number(/total_connections_received:(\d+)/.exec(info)?.[1]);
    const commands = new Map(
      [...info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1] ?? '', Number(m[2])]),
    );
    return { connections, commands };
  };
  const before = await snapshot();
  return async () => {
    const after = await snapshot();
    const commands: Record<string, number> = {};
    for (const [name, calls] of after.commands) {
      const added = calls - (before.commands.get(name) ?? 0);
      // The probe's own INFO calls are the only ones expected.
      if (name !== 'info' && added > 0) commands[name] = added;
    }
    return { connections: after.connections - before.connections, commands };
  };
}

/** A process with no REDIS_URL finding its broker (test/fixtures/find-broker.ts), run to its end. */
async function victim(env: NodeJS.ProcessEnv) {
  const child = runTs('test/fixtures/find-broker.ts', [], env);
  const line = await child.waitForLine(/^(ERROR|ASKED) /);
  child.closeStdin();
  const { code } = await child.exited;
  return { line, code, output: child.lines.join('\n') };
}

interface Plant {
  name: string;
  needsRoot?: boolean;
  layout: 'xdg' | 'tmp';
  /** Plants the trap for a runtime directory `dir` (absent so far); returns the expected reason. */
  plant(dir: string, attacker: RunningRedisServer, elsewhere: string): string;
}

const plants: Plant[] = [
  {
    name: 'a runtime directory made by another uid (in the shared TMPDIR)',
    needsRoot: true,
    layout: 'tmp',
    plant(dir, attacker) {
      const file = writeRuntimeDir(dir, attacker.url);
      fs.chownSync(file, OTHER, OTHER);
      fs.chownSync(dir, OTHER, OTHER);
      return `${dir} belongs to uid ${OTHER}, not to you (uid ${uid})`;
    },
  },
  {
    name: 'a runtime directory of mode 0777',
    layout: 'tmp',
    plant(dir, attacker) {
      writeRuntimeDir(dir, attacker.url);
      fs.chmodSync(dir, 0o777);
      return `${dir} is accessible to other users (mode 777)`;
    },
  },
  {
    name: 'a runtime directory that is a symbolic link to a proper-looking directory',
    layout: 'xdg',
    plant(dir, attacker, elsewhere) {
      const real = path.join(elsewhere, 'real');
      writeRuntimeDir(real, attacker.url);
      fs.symlinkSync(real, dir);
      return `${dir} is a symbolic link`;
    },
  },
  {
    name: 'a runtime directory that is a dangling symbolic link',
    layout: 'tmp',
    plant(dir, _attacker, elsewhere) {
      fs.symlinkSync(path.join(elsewhere, 'not-yet'), dir);
      return `${dir} is a symbolic link`;
    },
  },
  {
    name: 'a broker.url that is a symbolic link',
    layout: 'xdg',
    plant(dir, attacker, elsewhere) {
      const file = writeRuntimeDir(dir, 'unix:///nowhere.sock');
      const real = path.join(elsewhere, 'broker.url');
      fs.writeFileSync(real, `${attacker.url}\n`, { mode: 0o600 });
      fs.rmSync(file);
      fs.symlinkSync(real, file);
      return `${file} is a symbolic link`;
    },
  },
  {
    name: 'a broker.url owned by another uid',
    needsRoot: true,
    layout: 'xdg',
    plant(dir, attacker) {
      const file = writeRuntimeDir(dir, attacker.url);
      fs.chownSync(file, OTHER, OTHER);
      return `${file} belongs to uid ${OTHER}, not to you (uid ${uid})`;
    },
  },
  {
    name: 'a group-writable broker.url (0620)',
    layout: 'xdg',
    plant(dir, attacker) {
      const file = writeRuntimeDir(dir, attacker.url);
      fs.chmodSync(file, 0o620);
      return `${file} is accessible to other users (mode 620)`;
    },
  },
  {
    name: 'a world-writable broker.url (0606)',
    layout: 'tmp',
    plant(dir, attacker) {
      const file = writeRuntimeDir(dir, attacker.url);
      fs.chmodSync(file, 0o606);
      return `${file} is accessible to other users (mode 606)`;
    },
  },
  {
    name: 'a broker.url naming a socket of another uid',
    needsRoot: true,
    layout: 'xdg',
    plant(dir, attacker) {
      writeRuntimeDir(dir, attacker.url);
      fs.chownSync(attacker.socketPath, OTHER, OTHER);
      return `${attacker.socketPath} belongs to uid ${OTHER}, not to you (uid ${uid})`;
    },
  },
];

describe('broker discovery trusts only what the user owns', () => {
  for (const kind of ['xdg', 'tmp'] as const) {
    it(`uses a runtime directory of the user's own, mode 700 (${kind === 'xdg' ? 'XDG_RUNTIME_DIR' : 'TMPDIR, no XDG_RUNTIME_DIR'})`, async () => {
      const broker = await startOwnRedis();
      const { env, dir } = layout(kind);
      writeRuntimeDir(dir, broker.url);
      const traffic = await watchTraffic(broker);
      const run = await victim(env);
      expect(run.output).toContain(`BROKER private false ${broker.url}`);
      expect(run.line).toMatch(/^ASKED \S+-\d+$/);
      expect(run.code).toBe(0);
      // The control for the refusals below: a process that trusts the file does talk to its server.
      const seen = await traffic();
      expect(seen.connections).toBeGreaterThanOrEqual(2);
      expect(seen.commands).toHaveProperty('publish');
      expect(seen.commands).toHaveProperty('subscribe');
    });
  }

  for (const trap of plants) {
    it.skipIf(trap.needsRoot === true && !isRoot)(
      `refuses ${trap.name}, and its broker hears nothing${trap.needsRoot === true ? ' (needs root to chown)' : ''}`,
      async () => {
        const attacker = await startOwnRedis();
        const { env, dir } = layout(trap.layout);
        const reason = trap.plant(dir, attacker, tempDir());
        const traffic = await watchTraffic(attacker);
        const run = await victim(env);
        expect(run.line).toMatch(/^ERROR BrokerNotFoundError: /);
        expect(run.line).toContain(reason);
        expect(run.line).toContain('another user may have planted it');
        expect(run.line).toMatch(
          /Set XDG_RUNTIME_DIR to a directory of your own \(mode 700\), or REDIS_URL/,
        );
        // Installing redis-server or Docker would not help: the advice is about the plant.
        expect(run.line).not.toMatch(/apt-get install|Docker/);
        expect(run.code).toBe(2);
        expect(await traffic()).toEqual({ connections: 0, commands: {} });
      },
    );
  }

  it.skipIf(!isRoot)(
    'the CLI with no REDIS_URL refuses a planted directory too, exit 6, and sends nothing (needs root to chown)',
    async () => {
      assertBuildIsCurrent();
      const attacker = await startOwnRedis();
      const { env, dir } = layout('tmp');
      const file = writeRuntimeDir(dir, attacker.url);
      fs.chownSync(file, OTHER, OTHER);
      fs.chownSync(dir, OTHER, OTHER);
      const traffic = await watchTraffic(attacker);
      const cli = runCommand('node', ['dist/src/cli/main.js', 'ls'], env);
      const { code } = await cli.exited;
      expect(code).toBe(6);
      const output = cli.lines.join('\n');
      expect(output).toContain(`${dir} belongs to uid ${OTHER}`);
      expect(output).toContain('XDG_RUNTIME_DIR');
      expect(await traffic()).toEqual({ connections: 0, commands: {} });
    },
  );
});
