/**
 * What a supervisor and its children can be told: the option and child-spec
 * types with their defaults, and their resolution into complete, validated
 * settings (so that the supervisor itself never deals with a missing field).
 */
import { type MailboxOptions, positiveInteger } from '../core/index.js';
import { InvalidOptionError, SpawnError } from '../errors.js';
import { assertValidName } from '../wire/index.js';
import {
  TypeScriptLoaderMissingError,
  type TsxResolver,
  resolveChildModule,
} from './module-path.js';
import type { OutputSink } from './supervised-process.js';

/** When a child is restarted: always, only after a failure, or never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** Which children restart when one fails. */
export type SupervisionStrategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/** What to run as a child and how to treat it. */
export interface ChildSpec {
  /** Unique among the supervisor's children; the actor is reachable by this name. */
  name: string;
  /**
   * Module to run: a path relative to the working directory, or a module of this
   * package such as `actors/clock.ts`. TypeScript runs without a build step when
   * tsx is installed; without it, a module of this package runs from its built
   * JavaScript (`dist/actors/clock.js`).
   */
  module: string;
  /**
   * Extra command-line arguments for the child.
   * @default []
   */
  args?: string[];
  /**
   * Extra environment variables for the child.
   * @default {}
   */
  env?: Record<string, string>;
  /**
   * `permanent`: restarted whenever it exits; `transient`: restarted unless it
   * exits with code 0; `temporary`: never restarted.
   * @default 'permanent'
   */
  restart?: RestartType;
  /**
   * Time allowed between spawning and the child's READY.
   * @default 10000
   */
  readyTimeoutMs?: number;
  /**
   * Time allowed between SIGTERM and SIGKILL when stopping the child.
   * @default 5000
   */
  shutdownTimeoutMs?: number;
  /**
   * Mailbox settings for the child's actor (e.g. `{ durable: true }`), over
   * those its module gives `runActor` (handed over in REDIS_ACTORS_MAILBOX).
   * @default {}
   */
  mailbox?: MailboxOptions;
  /**
   * Processes of this module under one name: with more than one, children
   * `<name>-1` … `<name>-<count>`, each an actor named `<name>`, members of a
   * pool sharing the durable mailbox of `<name>` (mailbox `durable` and
   * `pool` implied). Each is supervised (restarted) on its own.
   * @default 1
   */
  count?: number;
}

/** Delays between restarts, growing with each restart within the period. */
export interface RestartBackoff {
  /** @default 100 */
  initialMs?: number;
  /** @default 5000 */
  maxMs?: number;
  /** @default 2 */
  factor?: number;
}

export interface SupervisorOptions {
  /**
   * Name of the supervisor's own actor (children are told its address).
   * @default none: reachable by its address only
   */
  name?: string;
  /** @default 'one_for_one' */
  strategy?: SupervisionStrategy;
  /**
   * Most restarts allowed within `periodMs`; one more stops every child and
   * fails the supervisor with EscalationError.
   * @default 3
   */
  intensity?: number;
  /** @default 5000 */
  periodMs?: number;
  /**
   * Wait before each restart, doubling per recent restart. `false` restarts at once.
   * @default false
   */
  backoff?: RestartBackoff | false;
  /**
   * Interval of the children's watchdog beats.
   * @default 500
   */
  heartbeatIntervalMs?: number;
  /**
   * A child whose beats stop for this long (frozen, or dead without exiting) is killed and restarted.
   * @default 3000
   */
  heartbeatTimeoutMs?: number;
  /**
   * A child whose main thread has not run for this long (busy loop, deadlock) is
   * killed and restarted. Shorter CPU-bound stretches are healthy.
   * @default 30000
   */
  hangTimeoutMs?: number;
  /**
   * Children's output: forwarded to this process's stdout/stderr with a
   * `[name:pid]` prefix, ignored, or given to a function.
   * @default 'forward'
   */
  output?: 'forward' | 'ignore' | OutputSink;
}

/** Every supervisor option but the actor's name, filled in. */
export type ResolvedSupervisorOptions = Required<Omit<SupervisorOptions, 'name'>>;

/** The defaults of {@link SupervisorOptions}, as its `@default` tags say. */
export const SUPERVISOR_DEFAULTS = {
  strategy: 'one_for_one',
  intensity: 3,
  periodMs: 5000,
  backoff: false,
  heartbeatIntervalMs: 500,
  heartbeatTimeoutMs: 3000,
  hangTimeoutMs: 30_000,
  output: 'forward',
} as const satisfies ResolvedSupervisorOptions;

/** The defaults of {@link RestartBackoff}. */
export const BACKOFF_DEFAULTS = {
  initialMs: 100,
  maxMs: 5000,
  factor: 2,
} as const satisfies Required<RestartBackoff>;

/** The defaults of {@link ChildSpec}'s optional fields. */
export const CHILD_DEFAULTS = {
  restart: 'permanent',
  readyTimeoutMs: 10_000,
  shutdownTimeoutMs: 5000,
  mailbox: {},
  count: 1,
} as const satisfies Partial<ChildSpec>;

const STRATEGIES: readonly string[] = [
  'one_for_one',
  'one_for_all',
  'rest_for_one',
] satisfies SupervisionStrategy[];
const RESTART_TYPES: readonly string[] = [
  'permanent',
  'transient',
  'temporary',
] satisfies RestartType[];

/** Fills in the defaults; throws InvalidOptionError for a value it cannot use. */
export function resolveSupervisorOptions(options: SupervisorOptions): ResolvedSupervisorOptions {
  const resolved: ResolvedSupervisorOptions = {
    strategy: options.strategy ?? SUPERVISOR_DEFAULTS.strategy,
    intensity: options.intensity ?? SUPERVISOR_DEFAULTS.intensity,
    periodMs: options.periodMs ?? SUPERVISOR_DEFAULTS.periodMs,
    backoff: options.backoff ?? SUPERVISOR_DEFAULTS.backoff,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? SUPERVISOR_DEFAULTS.heartbeatIntervalMs,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? SUPERVISOR_DEFAULTS.heartbeatTimeoutMs,
    hangTimeoutMs: options.hangTimeoutMs ?? SUPERVISOR_DEFAULTS.hangTimeoutMs,
    output: options.output ?? SUPERVISOR_DEFAULTS.output,
  };
  if (!STRATEGIES.includes(resolved.strategy)) {
    throw new InvalidOptionError('strategy', `must be one_for_one, one_for_all or rest_for_one`);
  }
  for (const key of [
    'periodMs',
    'heartbeatIntervalMs',
    'heartbeatTimeoutMs',
    'hangTimeoutMs',
  ] as const) {
    positiveInteger(key, resolved[key]);
  }
  if (!Number.isInteger(resolved.intensity) || resolved.intensity < 0) {
    throw new InvalidOptionError('intensity', `must be an integer >= 0, got ${resolved.intensity}`);
  }
  return resolved;
}

/** A child spec with every field filled in, and the module found. */
export interface ResolvedChildSpec extends Required<ChildSpec> {
  /** The name its actor takes: the child's name, or a pool's for one of its members. */
  actorName: string;
  /** Absolute path of the module the child process runs. */
  modulePath: string;
  /** Node options the child process is started with (e.g. the tsx loader). */
  execArgv: string[];
}

/**
 * Fills in the defaults and finds the module. Throws InvalidOptionError for a
 * bad spec (including a name in `takenNames`, or a module that does not
 * exist), SpawnError with reason `loader-missing` for a TypeScript module that
 * cannot run because tsx is not installed.
 */
export function resolveChildSpec(
  spec: ChildSpec & { actorName?: string },
  takenNames: readonly string[],
  resolveTsx?: TsxResolver,
): ResolvedChildSpec {
  assertValidName('child name', spec.name);
  if (takenNames.includes(spec.name)) {
    throw new InvalidOptionError(
      'child name',
      `this supervisor already has a child named "${spec.name}"`,
    );
  }
  const resolved = { ...CHILD_DEFAULTS, args: [], env: {}, actorName: spec.name, ...spec };
  if (!RESTART_TYPES.includes(resolved.restart)) {
    throw new InvalidOptionError('restart', `must be permanent, transient or temporary`);
  }
  positiveInteger('readyTimeoutMs', resolved.readyTimeoutMs);
  positiveInteger('count', resolved.count);
  positiveInteger('shutdownTimeoutMs', resolved.shutdownTimeoutMs);
  try {
    const module = resolveChildModule(spec.module, process.cwd(), resolveTsx);
    return { ...resolved, modulePath: module.path, execArgv: module.execArgv };
  } catch (error) {
    if (!(error instanceof TypeScriptLoaderMissingError)) throw error;
    // Nothing was started, so there is no exit code, signal or stderr to report.
    throw new SpawnError(spec.name, spec.module, 'loader-missing', null, null, [], error.detail);
  }
}
