/**
 * Supervisor escalation is not a remote kill switch: poison told to every
 * child (by address and by name) and to the supervisor itself leaves the
 * whole tree running, with no restart.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { type ChildExit, Supervisor } from '../../src/index.js';
import { rawClient, startSystem, uniqueNamespace } from '../helpers.js';
import { poisonEnvelopes } from './poison.js';

const WORKER = 'test/fixtures/worker.ts';
const POISONS_PER_TARGET = 20;

describe('a supervised tree under poison', () => {
  it('20 poison messages to every child and to the supervisor: nothing exits', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const supervisor = await Supervisor.start(system, { output: 'ignore', intensity: 3 });
    onTestFinished(() => supervisor.stop());
    const exits: ChildExit[] = [];
    supervisor.on('child-exited', (exit: ChildExit) => exits.push(exit));
    const children = [];
    for (const name of ['a', 'b', 'c'])
      children.push(await supervisor.spawn({ name, module: WORKER }));
    const raw = rawClient();
    const targets = [
      supervisor.address,
      ...children.flatMap((child) => [child.name, child.address ?? '']),
    ];
    for (const target of targets) {
      const poisons = poisonEnvelopes(target);
      for (let i = 0; i < POISONS_PER_TARGET; i++) {
        const [, , payload] = poisons[i % poisons.length] ?? ['', '', ''];
        await raw.publish(`${namespace}:${target}`, payload);
      }
    }
    const client = await startSystem({ namespace });
    for (const child of children) {
      // Behind the poison in the same mailbox: answered only if the child survived all of it.
      expect(await client.ask(child.name, 'pid')).toBe(child.pid);
      expect(await client.ask(child.address ?? '', 'pid')).toBe(child.pid);
    }
    expect(exits).toEqual([]);
    expect(supervisor.children().map((child) => [child.state, child.restarts])).toEqual([
      ['running', 0],
      ['running', 0],
      ['running', 0],
    ]);
    const health = await client.ask<{ invalidByReason: Record<string, number> }>('a', 'health');
    expect(health.invalidByReason['too-deep']).toBeGreaterThan(0);
  });
});
