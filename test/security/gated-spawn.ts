/**
 * A supervisor spawning a child that waits at a gate (fixtures/gate.ts): the
 * test learns the child's pid before the child starts its actor system, acts,
 * then opens the gate.
 */
import type { Redis } from 'ioredis';
import { onTestFinished } from 'vitest';
import { type ActorSystem, type ChildInfo, Supervisor } from '../../src/index.js';
import { rawClient } from '../helpers.js';

export interface GatedSpawn {
  supervisor: Supervisor;
  /** The spawn in progress. */
  spawned: Promise<ChildInfo>;
  pid: number;
  raw: Redis;
  /** A connection for blocking pops on `<gate>:…` lists. */
  blocking: Redis;
  gate: string;
  open: () => Promise<void>;
}

export async function gatedSpawn(
  system: ActorSystem,
  name: string,
  module: string,
  env: Record<string, string> = {},
): Promise<GatedSpawn> {
  const supervisor = await Supervisor.start(system);
  onTestFinished(() => supervisor.stop());
  const raw = rawClient();
  const blocking = raw.duplicate();
  onTestFinished(() => {
    blocking.disconnect();
  });
  const gate = `${system.namespace}:gate`;
  const spawned = supervisor.spawn({ name, module, env: { ...env, GATE_KEY: gate } });
  // Observed even if the test fails before awaiting it.
  spawned.catch(() => undefined);
  const pid = Number((await blocking.blpop(`${gate}:pid`, 20))?.[1]);
  const open = async (): Promise<void> => {
    await raw.rpush(gate, 'go');
  };
  return { supervisor, spawned, pid, raw, blocking, gate, open };
}
