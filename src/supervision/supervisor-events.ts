/** What a supervisor reports about its children: their state, their exits, its events. */
import type { EscalationError } from '../errors.js';
import type { RestartType } from './supervisor-options.js';
import type { ProcessExit } from './supervised-process.js';

export type ChildState = 'starting' | 'running' | 'stopping' | 'stopped';

/** A child as the supervisor reports it. */
export interface ChildInfo {
  name: string;
  module: string;
  restart: RestartType;
  state: ChildState;
  /** Current process id (changes with each restart). */
  pid: number | undefined;
  /** Current mailbox address, `<hostname>-<pid>`. */
  address: string | undefined;
  /** How many times it was restarted. */
  restarts: number;
  /** When the current process sent READY, ms since the epoch. */
  readyAt: number | undefined;
}

/** Why a child exited, as the `child-exited` event says. */
export type ExitReason = 'exited' | 'hung' | 'unresponsive' | 'stopped';

export interface ChildExit extends ProcessExit {
  name: string;
  pid: number;
  reason: ExitReason;
}

/** The events a supervisor emits, for `supervisor.on(…)`. */
export interface SupervisorEvents {
  /** A child sent READY: after `spawn()`, and again after each restart. */
  'child-started': [child: ChildInfo];
  /** A child process exited, for whatever reason (a stop included); once per process. */
  'child-exited': [exit: ChildExit];
  /**
   * The restart intensity was exceeded: every child was stopped and the
   * supervisor gave up (`done` rejects with the same error).
   */
  escalated: [error: EscalationError];
}
