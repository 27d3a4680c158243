/**
 * The usual scene of a fault test: a redis-server of the test's own, a
 * responder process hosting the actor `remote` (test/faults/fixtures/responder.ts),
 * and an actor system in the test process, both in a fresh namespace.
 */
import { onTestFinished } from 'vitest';
import { ActorSystem } from '../../src/index.js';
import { type Child, captureLogger, runTs, uniqueNamespace } from '../helpers.js';
import { type FaultRedis, startFaultRedis } from './fault-redis.js';

export interface Scene {
  redis: FaultRedis;
  namespace: string;
  /** The responder process; READY already printed. */
  responder: Child;
  /** An actor system in the test process, stopped when the test ends. */
  system: ActorSystem;
}

/** Sets the scene; `env` goes to the responder (CAPACITY, CONCURRENCY, …). */
export async function faultScene(env: Record<string, string> = {}): Promise<Scene> {
  const redis = await startFaultRedis();
  const namespace = uniqueNamespace();
  const responder = runTs('test/faults/fixtures/responder.ts', ['remote'], {
    REDIS_URL: redis.url,
    REDIS_ACTORS_NAMESPACE: namespace,
    ...env,
  });
  await responder.waitForLine(/^READY /);
  const system = await ActorSystem.start({ url: redis.url, namespace, logger: captureLogger() });
  onTestFinished(() => system.stop());
  return { redis, namespace, responder, system };
}
