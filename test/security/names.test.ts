/**
 * Names and addresses that cannot be shared or forged: simultaneous claims of
 * one name, a stranger subscribing a name's channel or writing registry
 * entries, and two processes with the same hostname and pid.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { NameTakenError, SpawnError, defineActor } from '../../src/index.js';
import { processAddress } from '../../src/wire/index.js';
import { rawClient, runCommand, startSystem, uniqueNamespace } from '../helpers.js';
import { gatedSpawn } from './gated-spawn.js';

const echo = defineActor({ handlers: { who: () => process.pid } });

function pidNamespacesAllowed(): boolean {
  try {
    execFileSync('unshare', ['--pid', '--fork', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('names and addresses', () => {
  it('20 rounds of two simultaneous claims of one name: exactly one winner each', async () => {
    const namespace = uniqueNamespace();
    const a = await startSystem({ namespace });
    const b = await startSystem({ namespace });
    // Each system's process mailbox is taken by a first actor: the claimants are second actors.
    await a.spawn(echo);
    await b.spawn(echo);
    for (let round = 0; round < 20; round++) {
      const name = `contested-${round}`;
      const outcomes = await Promise.allSettled([a.spawn(echo, { name }), b.spawn(echo, { name })]);
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(won.length, `round ${round}`).toBe(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(NameTakenError);
      expect((await a.registry.list()).filter((info) => info.name === name)).toHaveLength(1);
    }
  });

  it('a system that hosts no actor keeps refreshing its address claim', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace, presenceTtlMs: 2000, presenceIntervalMs: 200 });
    const raw = rawClient();
    const key = `${namespace}:name:{${system.address}}`;
    expect(String(await raw.get(key))).toMatch(new RegExp(`^${system.address}\\|`));
    // Lowered here: a refresh sets it back to 2000; without one it only goes down, then it is gone.
    await raw.pexpire(key, 1000);
    await expect.poll(() => raw.pttl(key), { timeout: 5000 }).toBeGreaterThan(1000);
  });

  it("a stranger subscribing a name's channel does not take the name", async () => {
    const namespace = uniqueNamespace();
    const squatter = rawClient().duplicate();
    await squatter.subscribe(`${namespace}:clock`);
    try {
      const system = await startSystem({ namespace });
      await system.spawn(echo, { name: 'clock' });
      expect(await system.ask('clock', 'who')).toBe(process.pid);
    } finally {
      squatter.disconnect();
    }
  });

  it("a stranger's registry entry is not listed: entries count only while their claim is held", async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    await system.spawn(echo, { name: 'real' });
    const raw = rawClient();
    const forged = { name: 'clock', address: 'evil-1', host: 'evil', pid: 1, startedAt: 0 };
    await raw.hset(
      `${namespace}:actors:{evil-1}`,
      'evil-1',
      JSON.stringify({ ...forged, token: 'evil-1|abcdefghijkl' }),
    );
    await raw.zadd(`${namespace}:processes`, String(Date.now() + 3_600_000), 'evil-1');
    // In the genuine process's own hash, with its token (readable in its claim), but no name claim.
    const token = String(await raw.get(`${namespace}:name:{${system.address}}`));
    const address = `${system.address}/evil`;
    await raw.hset(
      `${namespace}:actors:{${system.address}}`,
      address,
      JSON.stringify({ ...forged, address, token }),
    );
    expect(await system.registry.lookup('clock')).toBeUndefined();
    expect(await system.registry.lookup(address)).toBeUndefined();
    expect((await system.registry.list()).map((info) => info.name)).toEqual(['real']);
  });

  it('with a namespace secret, a forged entry with a forged claim is not listed either', async () => {
    const namespace = uniqueNamespace();
    const secret = randomBytes(32);
    const system = await startSystem({ namespace, auth: { secret } });
    await system.spawn(echo, { name: 'real' });
    const raw = rawClient();
    const token = 'evil-1|abcdefghijkl';
    await raw.set(`${namespace}:name:{evil-1}`, token);
    await raw.set(`${namespace}:name:{clock}`, token);
    await raw.hset(
      `${namespace}:actors:{evil-1}`,
      'evil-1',
      JSON.stringify({ name: 'clock', address: 'evil-1', host: 'evil', pid: 1, token }),
    );
    await raw.zadd(`${namespace}:processes`, String(Date.now() + 3_600_000), 'evil-1');
    // Nor an unsigned one in the genuine process's hash, with its token and a name claim.
    const genuine = String(await raw.get(`${namespace}:name:{${system.address}}`));
    const address = `${system.address}/evil`;
    const nonce = genuine.slice(genuine.lastIndexOf('|') + 1);
    await raw.set(`${namespace}:name:{forged}`, `${address}|${nonce}`);
    await raw.hset(
      `${namespace}:actors:{${system.address}}`,
      address,
      JSON.stringify({ name: 'forged', address, host: 'evil', pid: 1, token: genuine }),
    );
    expect(await system.registry.lookup('clock')).toBeUndefined();
    expect(await system.registry.lookup('forged')).toBeUndefined();
    expect((await system.registry.list()).map((info) => info.name)).toEqual(['real']);
  });

  it.skipIf(!pidNamespacesAllowed())(
    'two processes with the same hostname and pid get two mailboxes (pid namespaces)',
    async () => {
      const namespace = uniqueNamespace();
      const start = (who: string) =>
        runCommand(
          'unshare',
          ['--pid', '--fork', process.execPath, '--conditions=source', '--import', 'tsx', FIXTURE],
          { REDIS_ACTORS_NAMESPACE: namespace, WHO: who },
        );
      const first = start('first');
      const firstLine = await first.waitForLine(/^address /, 20_000);
      const second = start('second');
      const secondLine = await second.waitForLine(/^address /, 20_000);
      const host = os.hostname();
      expect(firstLine).toBe(`address ${host}-1 pid 1`);
      expect(secondLine).toBe(`address ${host}-1~2 pid 1`);
      expect(second.lines.join('\n')).toContain(
        `address ${host}-1 is held by another live process`,
      );
      const client = await startSystem({ namespace });
      expect(await client.ask(`${host}-1`, 'who')).toBe('first');
      expect(await client.ask(`${host}-1~2`, 'who')).toBe('second');
      const listed = (await client.registry.list()).map((info) => info.address);
      expect(listed).toEqual(expect.arrayContaining([`${host}-1`, `${host}-1~2`]));
      first.closeStdin();
      second.closeStdin();
      expect((await first.exited).code).toBe(0);
      expect((await second.exited).code).toBe(0);
    },
  );
});

describe('a child that dies before READY', () => {
  it('gives up what it claimed, and nothing a look-alike process with its hostname and pid holds', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const { supervisor, spawned, pid, raw, blocking, gate, open } = await gatedSpawn(
      system,
      'worker',
      'test/security/fixtures/claims-then-dies.ts',
      { CLAIM_NAME: 'worker' },
    );
    // Another live process (another container) already holds the child's address.
    const lookAlike = processAddress(1, undefined, pid);
    const lookAlikeClaim = `${lookAlike}|lookalike000`;
    await raw.set(`${namespace}:name:{${lookAlike}}`, lookAlikeClaim, 'PX', 60_000);
    await raw.hset(`${namespace}:actors:{${lookAlike}}`, lookAlike, '{}');
    await open();
    const claimed = (await blocking.blpop(`${gate}:claimed`, 20))?.[1];
    expect(claimed).toBe(`${lookAlike}~2`);
    await expect(spawned).rejects.toBeInstanceOf(SpawnError);
    // A released claim holds ':' and the token it had (free to claim; see name-claims.ts).
    const child = claimed ?? '';
    expect(await raw.get(`${namespace}:name:{worker}`)).toMatch(new RegExp(`^:${child}\\|`));
    expect(await raw.get(`${namespace}:name:{${child}}`)).toMatch(new RegExp(`^:${child}\\|`));
    // The child's registry entries went with its address; the look-alike's stay.
    expect(await raw.exists(`${namespace}:actors:{${child}}`)).toBe(0);
    expect(await raw.get(`${namespace}:name:{${lookAlike}}`)).toBe(lookAlikeClaim);
    expect(await raw.hget(`${namespace}:actors:{${lookAlike}}`, lookAlike)).toBe('{}');
    // So the next child of that name claims it at once.
    const successor = await supervisor.spawn({ name: 'worker', module: 'test/fixtures/worker.ts' });
    expect((await system.registry.lookup('worker'))?.address).toBe(successor.address);
  });
});

const FIXTURE = 'test/security/fixtures/same-pid.ts';
