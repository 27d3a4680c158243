/** Supervision: supervisors, their child processes, and the child side (runActor). */
export { Supervisor } from './supervisor.js';
export type {
  ChildSpec,
  RestartBackoff,
  RestartType,
  SupervisionStrategy,
  SupervisorOptions,
} from './supervisor-options.js';
export type {
  ChildExit,
  ChildInfo,
  ChildState,
  ExitReason,
  SupervisorEvents,
} from './supervisor-events.js';
export type { OutputSink, ProcessExit } from './supervised-process.js';
export { MAILBOX_LOST_EXIT_CODE, runActor } from './run-actor.js';
export type { RunActorOptions, RunningActor } from './run-actor.js';
export { runSupervisor } from './run-supervisor.js';
export type { RunSupervisorOptions, RunningSupervisor } from './run-supervisor.js';
export {
  TSX_INSTALL_COMMAND,
  TypeScriptLoaderMissingError,
  resolveChildModule,
} from './module-path.js';
export type { ChildModule, TsxResolver } from './module-path.js';
