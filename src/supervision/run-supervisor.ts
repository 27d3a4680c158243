/**
 * A process whose job is to supervise: starts an actor system and a supervisor,
 * spawns the children, forwards their output, and turns signals and failures
 * into a clean exit — 0 after SIGINT/SIGTERM (children stopped in order),
 * 1 when a child cannot be started or the supervisor escalates.
 */
import { ActorSystem } from '../core/index.js';
import { findBroker } from '../broker/index.js';
import type { ActorSystemOptions } from '../core/index.js';
import type { ChildSpec, SupervisorOptions } from './supervisor-options.js';
import { Supervisor } from './supervisor.js';

export interface RunSupervisorOptions extends SupervisorOptions {
  /** The children, started in this order. */
  children: ChildSpec[];
  /**
   * Options of the supervisor's actor system. Without a `url`, the broker is
   * found (or started) as `findBroker()` does, and stopped on exit if started here.
   */
  system?: ActorSystemOptions;
}

export interface RunningSupervisor {
  system: ActorSystem;
  supervisor: Supervisor;
  /** Stops the children, the system and the broker this process started, then exits with `code`. */
  shutdown: (code: number) => Promise<never>;
}

/** Runs a supervisor as this process's purpose; installs SIGINT/SIGTERM handlers. */
export async function runSupervisor(options: RunSupervisorOptions): Promise<RunningSupervisor> {
  const { children, system: systemOptions = {}, ...supervisorOptions } = options;
  const broker = systemOptions.url === undefined ? await findBroker() : undefined;
  const system = await ActorSystem.start({
    ...systemOptions,
    url: systemOptions.url ?? broker?.url,
  });
  let supervisor: Supervisor;
  try {
    supervisor = await Supervisor.start(system, supervisorOptions);
  } catch (error) {
    // Nothing would stop the system (nor the broker started here), and the process would hang.
    await system.stop();
    await broker?.stop();
    throw error;
  }
  let exiting: Promise<never> | undefined;
  const shutdown = (code: number): Promise<never> => {
    exiting ??= (async () => {
      await supervisor.stop();
      await system.stop();
      await broker?.stop();
      process.exit(code);
    })();
    return exiting;
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  supervisor.done.catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    void shutdown(1);
  });
  for (const spec of children) {
    try {
      await supervisor.spawn(spec);
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      return shutdown(1);
    }
  }
  return { system, supervisor, shutdown };
}
