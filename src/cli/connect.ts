import {
  ActorSystem,
  BrokerNotFoundError,
  createStderrLogger,
  discoverBrokerUrl,
} from '../index.js';
import type { GlobalOptions } from './command.js';

/** The Redis URL: --url, else REDIS_URL, else the running private broker. */
export function resolveUrl(global: GlobalOptions): string {
  const fromEnv = process.env.REDIS_URL === '' ? undefined : process.env.REDIS_URL;
  const url = global.url ?? fromEnv ?? discoverBrokerUrl();
  if (url === undefined) {
    throw new BrokerNotFoundError(
      'no --url, no REDIS_URL, and no private broker running (start one with: npx redis-actors broker)',
    );
  }
  return url;
}

/** An actor system for a short-lived CLI command, quiet unless something is wrong. */
export function connect(global: GlobalOptions): Promise<ActorSystem> {
  return ActorSystem.start({
    url: resolveUrl(global),
    ...(global.namespace === undefined ? {} : { namespace: global.namespace }),
    logger: createStderrLogger('error'),
  });
}

/** Runs `work` with a connected system, always stopping it. */
export async function withSystem<T>(
  global: GlobalOptions,
  work: (system: ActorSystem) => Promise<T>,
): Promise<T> {
  const system = await connect(global);
  try {
    return await work(system);
  } finally {
    await system.stop();
  }
}
