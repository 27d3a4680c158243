/** Supervision: supervisors, their child processes, and the child side (runActor). */
export { Supervisor } from './supervisor.js';
export type {
  ChildExit,
  ChildInfo,
  ChildSpec,
  ChildState,
  ExitReason,
  RestartBackoff,
  RestartType,
  SupervisionStrategy,
  SupervisorOptions,
} from './supervisor.js';
export type { OutputSink, ProcessExit } from './supervised-process.js';
export { MAILBOX_LOST_EXIT_CODE, runActor } from './run-actor.js';
export type { RunActorOptions, RunningActor } from './run-actor.js';
export { runSupervisor } from './run-supervisor.js';
export type { RunSupervisorOptions, RunningSupervisor } from './run-supervisor.js';
export { resolveChildModule } from './module-path.js';
