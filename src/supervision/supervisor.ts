/**
 * A supervisor: an actor that spawns child actor processes, hands each its own
 * mailbox address on the command line, waits for their READY, watches their
 * heartbeats, and restarts the ones that die, as Erlang/OTP supervisors do
 * (strategies one_for_one / one_for_all / rest_for_one; permanent / transient /
 * temporary children; restart intensity within a period, then escalation).
 */
import { EventEmitter } from 'node:events';
import { type ActorSystem, defineActor, positiveInteger } from '../core/index.js';
import { EscalationError, InvalidOptionError, SpawnError } from '../errors.js';
import { READY_TYPE, type ReadyBody, assertValidName, processAddress } from '../wire/index.js';
import { resolveChildModule } from './module-path.js';
import { RestartIntensity } from './restart-intensity.js';
import type { OutputSink, ProcessExit } from './supervised-process.js';
import { SupervisedProcess } from './supervised-process.js';

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
   * package such as `actors/clock.ts`. TypeScript runs without a build step.
   */
  module: string;
  /** Extra command-line arguments for the child. */
  args?: string[];
  /** Extra environment variables for the child. */
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
  /** Name of the supervisor's own actor (children are told its address). */
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

interface ResolvedChildSpec extends Required<ChildSpec> {
  modulePath: string;
  execArgv: string[];
}

interface SupervisedChild {
  spec: ResolvedChildSpec;
  state: ChildState;
  process: SupervisedProcess | undefined;
  address: string | undefined;
  readyAt: number | undefined;
  restarts: number;
  /** Set when the supervisor kills the child for a missed deadline. */
  killReason: 'hung' | 'unresponsive' | undefined;
}

const CHILD_DEFAULTS = {
  restart: 'permanent',
  readyTimeoutMs: 10_000,
  shutdownTimeoutMs: 5000,
} as const;

/**
 * Events: `child-started` (ChildInfo, also after each restart), `child-exited`
 * (ChildExit), `escalated` (EscalationError).
 */
export class Supervisor extends EventEmitter {
  /** Mailbox address of the supervisor's actor, passed to every child. */
  readonly address: string;
  /** Resolves once stop() finished; rejects with EscalationError when the supervisor gave up. */
  readonly done: Promise<void>;
  private readonly childList: SupervisedChild[] = [];
  private readonly readyWaiters = new Map<number, (body: ReadyBody) => void>();
  private readonly intensity: RestartIntensity;
  private readonly watchTimer: NodeJS.Timeout;
  private state: 'running' | 'stopping' | 'stopped' | 'failed' = 'running';
  private recovery: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private settleDone!: (error?: Error) => void;

  private constructor(
    private readonly system: ActorSystem,
    address: string,
    private readonly options: Required<Omit<SupervisorOptions, 'name'>>,
  ) {
    super();
    this.address = address;
    this.intensity = new RestartIntensity(options.intensity, options.periodMs);
    this.done = new Promise<void>((resolve, reject) => {
      this.settleDone = (error) => {
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    // Callers that only listen to 'escalated' must not get an unhandled rejection.
    this.done.catch(() => undefined);
    this.watchTimer = setInterval(() => {
      this.checkLiveness();
    }, options.heartbeatIntervalMs);
    this.watchTimer.unref();
  }

  /** Starts a supervisor in `system`; its actor receives the children's READY. */
  static async start(system: ActorSystem, options: SupervisorOptions = {}): Promise<Supervisor> {
    const resolved = {
      strategy: options.strategy ?? 'one_for_one',
      intensity: options.intensity ?? 3,
      periodMs: options.periodMs ?? 5000,
      backoff: options.backoff ?? false,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 500,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 3000,
      hangTimeoutMs: options.hangTimeoutMs ?? 30_000,
      output: options.output ?? 'forward',
    } satisfies Required<Omit<SupervisorOptions, 'name'>>;
    if (!['one_for_one', 'one_for_all', 'rest_for_one'].includes(resolved.strategy)) {
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
      throw new InvalidOptionError(
        'intensity',
        `must be an integer >= 0, got ${resolved.intensity}`,
      );
    }
    // The actor exists before the supervisor object (which needs its address).
    const created: { supervisor?: Supervisor } = {};
    const ref = await system.spawn(
      defineActor({
        handlers: {
          [READY_TYPE]: (body: ReadyBody) => {
            created.supervisor?.onReady(body);
          },
          children: () => created.supervisor?.children() ?? [],
        },
      }),
      options.name === undefined ? {} : { name: options.name },
    );
    created.supervisor = new Supervisor(system, ref.address, resolved);
    return created.supervisor;
  }

  /**
   * Starts a child and resolves once it sent READY. Rejects with SpawnError
   * (exit code, signal, stderr tail) if it exits first or sends no READY in time
   * (it is then killed, and not restarted), or InvalidOptionError for a bad spec.
   */
  async spawn(spec: ChildSpec): Promise<ChildInfo> {
    if (this.state !== 'running')
      throw new InvalidOptionError('spawn', 'the supervisor is not running');
    const child: SupervisedChild = {
      spec: this.resolveSpec(spec),
      state: 'starting',
      process: undefined,
      address: undefined,
      readyAt: undefined,
      restarts: 0,
      killReason: undefined,
    };
    this.childList.push(child);
    try {
      await this.startChild(child);
    } catch (error) {
      this.childList.splice(this.childList.indexOf(child), 1);
      throw error;
    }
    return this.info(child);
  }

  /** Every child, in start order. */
  children(): ChildInfo[] {
    return this.childList.map((child) => this.info(child));
  }

  /** The child with this name. */
  child(name: string): ChildInfo | undefined {
    const child = this.childList.find((candidate) => candidate.spec.name === name);
    return child === undefined ? undefined : this.info(child);
  }

  /**
   * Stops every child in reverse start order (SIGTERM, then SIGKILL after its
   * shutdown timeout). The actor system is left running. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    if (this.state === 'running') this.state = 'stopping';
    clearInterval(this.watchTimer);
    await this.stopChildren([...this.childList].reverse());
    if (this.state === 'stopping') {
      this.state = 'stopped';
      this.settleDone();
    }
  }

  private resolveSpec(spec: ChildSpec): ResolvedChildSpec {
    assertValidName('child name', spec.name);
    if (this.childList.some((child) => child.spec.name === spec.name)) {
      throw new InvalidOptionError(
        'child name',
        `this supervisor already has a child named "${spec.name}"`,
      );
    }
    const resolved = { ...CHILD_DEFAULTS, args: [], env: {}, ...spec };
    if (!['permanent', 'transient', 'temporary'].includes(resolved.restart)) {
      throw new InvalidOptionError('restart', `must be permanent, transient or temporary`);
    }
    positiveInteger('readyTimeoutMs', resolved.readyTimeoutMs);
    positiveInteger('shutdownTimeoutMs', resolved.shutdownTimeoutMs);
    const module = resolveChildModule(spec.module);
    return { ...resolved, modulePath: module.path, execArgv: module.execArgv };
  }

  private async startChild(child: SupervisedChild): Promise<void> {
    const { spec } = child;
    const process_ = new SupervisedProcess({
      name: spec.name,
      modulePath: spec.modulePath,
      execArgv: spec.execArgv,
      args: spec.args,
      parentAddress: this.address,
      output: this.options.output,
      env: {
        ...process.env,
        REDIS_URL: this.system.options.url,
        REDIS_ACTORS_NAMESPACE: this.system.namespace,
        REDIS_ACTORS_HEARTBEAT_MS: String(this.options.heartbeatIntervalMs),
        ...spec.env,
      },
    });
    child.process = process_;
    child.state = 'starting';
    child.address = undefined;
    child.readyAt = undefined;
    child.killReason = undefined;
    const ready = new Promise<ReadyBody>((resolve) => {
      this.readyWaiters.set(process_.pid, resolve);
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, spec.readyTimeoutMs, 'timeout');
    });
    const outcome = await Promise.race([ready, process_.exited, timedOut]);
    clearTimeout(timer);
    this.readyWaiters.delete(process_.pid);
    if (outcome === 'timeout' || !('address' in outcome)) {
      // A child that failed to start is killed and never reused.
      process_.kill();
      const exit = await process_.exited;
      child.state = 'stopped';
      // It may have claimed its name before failing: free it for the next attempt.
      await this.system.registry
        .releaseNames(processAddress(1, undefined, process_.pid), [spec.name])
        .catch(() => undefined);
      throw new SpawnError(
        spec.name,
        spec.module,
        outcome === 'timeout' ? 'ready-timeout' : 'exited',
        exit.code,
        exit.signal,
        process_.stderrTail(),
        outcome === 'timeout'
          ? `sent no READY within ${spec.readyTimeoutMs} ms and was killed`
          : `exited before READY (${describeExit(exit)})`,
      );
    }
    child.state = this.state === 'running' ? 'running' : 'stopping';
    child.address = outcome.address;
    child.readyAt = Date.now();
    // Deadlines run from READY: loading the module may take longer than a heartbeat timeout.
    process_.lastBeatAt = child.readyAt;
    void process_.exited.then((exit) => {
      this.onExit(child, process_, exit);
    });
    if (child.state === 'stopping') {
      await process_.terminate(spec.shutdownTimeoutMs);
      return;
    }
    this.emit('child-started', this.info(child));
  }

  private onReady(body: ReadyBody): void {
    if (
      typeof body !== 'object' ||
      typeof body.pid !== 'number' ||
      typeof body.address !== 'string'
    )
      return;
    this.readyWaiters.get(body.pid)?.(body);
  }

  /** Observes each child process's exit exactly once. */
  private onExit(child: SupervisedChild, process_: SupervisedProcess, exit: ProcessExit): void {
    if (child.process !== process_) return;
    const reason: ExitReason =
      child.state === 'stopping' || this.state !== 'running'
        ? 'stopped'
        : (child.killReason ?? 'exited');
    child.state = 'stopped';
    // A child killed without a clean stop leaves its presence and its name behind: take
    // them out now, so that its successor can claim the name at once.
    // Before READY the address is not known yet, but it can only be the child's first one.
    const address = child.address ?? processAddress(1, undefined, process_.pid);
    const cleared = Promise.all([
      this.system.registry.withdraw([address]),
      this.system.registry.releaseNames(address, [child.spec.name]),
    ]).then(
      () => undefined,
      () => undefined,
    );
    this.emit('child-exited', {
      name: child.spec.name,
      pid: process_.pid,
      reason,
      ...exit,
    } satisfies ChildExit);
    if (reason === 'stopped' || !this.shouldRestart(child, exit, reason)) return;
    const failure = `child "${child.spec.name}" (pid ${process_.pid}) ${reason === 'exited' ? describeExit(exit) : `was killed: ${reason}`}`;
    this.recovery = this.recovery.then(() => cleared).then(() => this.recover(child, failure));
  }

  private shouldRestart(child: SupervisedChild, exit: ProcessExit, reason: ExitReason): boolean {
    switch (child.spec.restart) {
      case 'permanent':
        return true;
      case 'temporary':
        return false;
      case 'transient':
        return reason !== 'exited' || exit.code !== 0 || exit.signal !== null;
    }
  }

  /** Restarts per strategy after `failed` died; gives up past the intensity. */
  private async recover(failed: SupervisedChild, failure: string): Promise<void> {
    if (this.state !== 'running') return;
    if (!this.intensity.allow()) {
      await this.escalate(failure);
      return;
    }
    const index = this.childList.indexOf(failed);
    const group =
      this.options.strategy === 'one_for_one'
        ? [failed]
        : this.options.strategy === 'one_for_all'
          ? [...this.childList]
          : this.childList.slice(index);
    const toRestart = group.filter((member) => member === failed || member.state !== 'stopped');
    await this.stopChildren(toRestart.filter((member) => member !== failed).reverse());
    await this.backoffDelay();
    for (const member of toRestart) {
      if (!this.isRunning()) return;
      // A nested recovery (below) may have restarted it already.
      if (member.state === 'running') continue;
      if (member !== failed && member.spec.restart === 'temporary') {
        this.childList.splice(this.childList.indexOf(member), 1);
        continue;
      }
      member.restarts++;
      try {
        await this.startChild(member);
      } catch (error) {
        // A failed restart is one more failure of that child: it counts toward the intensity.
        await this.recover(member, (error as Error).message);
      }
    }
  }

  /** A method, not a field test: the state changes across the awaits of a recovery. */
  private isRunning(): boolean {
    return this.state === 'running';
  }

  private async backoffDelay(): Promise<void> {
    const { backoff } = this.options;
    if (backoff === false) return;
    const initial = backoff.initialMs ?? 100;
    const delay = Math.min(
      initial * (backoff.factor ?? 2) ** Math.max(0, this.intensity.recent - 1),
      backoff.maxMs ?? 5000,
    );
    await new Promise((resolve) => setTimeout(resolve, delay));
  }

  private async escalate(failure: string): Promise<void> {
    this.state = 'failed';
    clearInterval(this.watchTimer);
    await this.stopChildren([...this.childList].reverse());
    const error = new EscalationError(
      this.intensity.recent,
      this.options.intensity,
      this.options.periodMs,
      failure,
    );
    this.emit('escalated', error);
    this.settleDone(error);
  }

  /** Stops children one at a time, in the order given. */
  private async stopChildren(children: SupervisedChild[]): Promise<void> {
    for (const child of children) {
      const process_ = child.process;
      if (process_ === undefined || process_.hasExited) {
        child.state = 'stopped';
        continue;
      }
      child.state = 'stopping';
      await process_.terminate(child.spec.shutdownTimeoutMs);
      child.state = 'stopped';
    }
  }

  /** Kills children whose beats stopped or whose main thread is stuck. */
  private checkLiveness(): void {
    const now = Date.now();
    for (const child of this.childList) {
      const process_ = child.process;
      if (child.state !== 'running' || process_ === undefined || child.killReason !== undefined)
        continue;
      const silentMs = now - process_.lastBeatAt;
      if (silentMs > this.options.heartbeatTimeoutMs) {
        this.kill(child, process_, 'unresponsive', `no heartbeat for ${silentMs} ms`);
      } else if (process_.mainThreadAgeMs > this.options.hangTimeoutMs) {
        this.kill(child, process_, 'hung', `main thread stuck for ${process_.mainThreadAgeMs} ms`);
      }
    }
  }

  private kill(
    child: SupervisedChild,
    process_: SupervisedProcess,
    reason: 'hung' | 'unresponsive',
    detail: string,
  ): void {
    child.killReason = reason;
    this.system.options.logger.warn(
      `supervisor ${this.address}: child "${child.spec.name}" (pid ${process_.pid}) ${detail}; terminating it`,
    );
    void process_.terminate(child.spec.shutdownTimeoutMs);
  }

  private info(child: SupervisedChild): ChildInfo {
    return {
      name: child.spec.name,
      module: child.spec.module,
      restart: child.spec.restart,
      state: child.state,
      pid: child.process?.pid,
      address: child.address,
      restarts: child.restarts,
      readyAt: child.readyAt,
    };
  }
}

function describeExit(exit: ProcessExit): string {
  return exit.signal === null ? `exited with code ${exit.code}` : `was killed by ${exit.signal}`;
}
