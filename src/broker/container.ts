/**
 * Fallback when redis-server is not installed: a `redis:7` container through
 * testcontainers, for users who have Docker. testcontainers is an optional
 * (development) dependency, so it is loaded only here, on demand.
 */

export interface RunningContainer {
  url: string;
  stop(): Promise<void>;
}

interface StartedRedisContainer {
  getConnectionUrl(): string;
  stop(): Promise<unknown>;
}

interface RedisContainerModule {
  RedisContainer: new (image: string) => { start(): Promise<StartedRedisContainer> };
}

interface TestcontainersModule {
  getContainerRuntimeClient(): Promise<unknown>;
}

/** Whether a Docker engine answers (and testcontainers is installed). */
export async function dockerAvailable(): Promise<boolean> {
  try {
    const testcontainers = (await import('testcontainers')) as unknown as TestcontainersModule;
    await testcontainers.getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** Starts `redis:7` in a container; throws when Docker or testcontainers is missing. */
export async function startRedisContainer(image = 'redis:7'): Promise<RunningContainer> {
  const module = (await import('@testcontainers/redis')) as unknown as RedisContainerModule;
  const container = await new module.RedisContainer(image).start();
  return {
    url: container.getConnectionUrl(),
    stop: async () => {
      await container.stop();
    },
  };
}
