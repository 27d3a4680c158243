/**
 * A supervisor: an actor that spawns child actor processes, hands each its own
 * mailbox address on the command line, waits for their READY, watches their
 * heartbeats, and restarts the ones that die, as Erlang/OTP supervisors do
 * (strategies one_for_one / one_for_all / rest_for_one; permanent / transient /
 * temporary children; restart intensity within a period, then escalation).
 *
 * Its options are in supervisor-options.ts, its events in supervisor-events.ts,
 * a child's record and launch in child-lifecycle.ts, and which children a
 * failure restarts, and when, in restart-plan.ts.
 */
import { EventEmitter } from 'node:events';
import { type ActorSystem, defineActor, positiveInteger } from '../core/index.js';
import { EscalationError, InvalidOptionError } from '../errors.js';
import { READY_TYPE, type ReadyBody } from '../wire/index.js';
import { ChildLauncher, SupervisedChild, describeExit } from './child-lifecycle.js';
import { RestartIntensity } from './restart-intensity.js';
import { backoffDelayMs, restartGroup } from './restart-plan.js';
import type { ProcessExit, SupervisedProcess } from './supervised-process.js';
import { reportSupervision } from './supervision-log.js';
import type { ChildExit, ChildInfo, ExitReason, SupervisorEvents } from './supervisor-events.js';
import {
  type ChildSpec,
  type ResolvedSupervisorOptions,
  type SupervisorOptions,
  resolveChildSpec,
  resolveSupervisorOptions,
} from './supervisor-options.js';

/**
 * Events (typed, see {@link SupervisorEvents}): `child-started` (ChildInfo,
 * also after each restart), `child-exited` (ChildExit), `escalated`
 * (EscalationError).
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  /** Mailbox address of the supervisor's actor, passed to every child. */
  readonly address: string;
  /** Resolves once stop() finished; rejects with EscalationError when the supervisor gave up. */
  readonly done: Promise<void>;
  private readonly childList: SupervisedChild[] = [];
  private readonly launcher: ChildLauncher;
  private readonly intensity: RestartIntensity;
  private readonly watchTimer: NodeJS.Timeout;
  private state: 'running' | 'stopping' | 'stopped' | 'failed' = 'running';
  private recovery: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private settleDone!: (error?: Error) => void;
  /** Takes its part out of the process report (see supervision-log.ts). */
  private stopReporting: () => void = () => undefined;

  private constructor(
    private readonly system: ActorSystem,
    address: string,
    private readonly options: ResolvedSupervisorOptions,
  ) {
    super();
    this.address = address;
    this.launcher = new ChildLauncher({
      system,
      parentAddress: address,
      output: options.output,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
    });
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
    const resolved = resolveSupervisorOptions(options);
    // The actor exists before the supervisor object (which needs its address).
    const created: { supervisor?: Supervisor } = {};
    const ref = await system.spawn(
      defineActor({
        handlers: {
          [READY_TYPE]: (body: ReadyBody) => {
            created.supervisor?.launcher.onReady(body);
          },
          children: () => created.supervisor?.children() ?? [],
        },
      }),
      options.name === undefined ? {} : { name: options.name },
    );
    const supervisor = new Supervisor(system, ref.address, resolved);
    supervisor.stopReporting = reportSupervision(system, supervisor);
    created.supervisor = supervisor;
    return supervisor;
  }

  /**
   * Starts a child and resolves once it sent READY. Rejects with SpawnError
   * (exit code, signal, stderr tail) if it exits first or sends no READY in time
   * (it is then killed, and not restarted), or if it is TypeScript and tsx is
   * not installed (reason `loader-missing`); or with InvalidOptionError for a
   * bad spec.
   */
  async spawn(spec: ChildSpec): Promise<ChildInfo> {
    const count = spec.count ?? 1;
    if (count === 1) return this.spawnOne(spec);
    positiveInteger('count', count);
    if (spec.mailbox?.durable === false) {
      throw new InvalidOptionError(
        'count',
        `the ${count} members of "${spec.name}" share its durable mailbox: leave mailbox.durable unset`,
      );
    }
    const mailbox = { ...spec.mailbox, durable: true, pool: true };
    const members: ChildInfo[] = [];
    for (let i = 1; i <= count; i++) {
      members.push(
        await this.spawnOne({
          ...spec,
          name: `${spec.name}-${i}`,
          count: 1,
          mailbox,
          actorName: spec.name,
        }),
      );
    }
    return members[0] as ChildInfo;
  }

  private async spawnOne(spec: ChildSpec & { actorName?: string }): Promise<ChildInfo> {
    if (this.state !== 'running')
      throw new InvalidOptionError('spawn', 'the supervisor is not running');
    const takenNames = this.childList.map((child) => child.name);
    const child = new SupervisedChild(resolveChildSpec(spec, takenNames));
    this.childList.push(child);
    try {
      await this.startChild(child);
    } catch (error) {
      this.childList.splice(this.childList.indexOf(child), 1);
      throw error;
    }
    return child.info();
  }

  /** READY messages refused: from no child this supervisor is starting, or without its token. */
  get refusedReady(): number {
    return this.launcher.refusedReady;
  }

  /** Every child, in start order. */
  children(): ChildInfo[] {
    return this.childList.map((child) => child.info());
  }

  /** The child with this name. */
  child(name: string): ChildInfo | undefined {
    return this.childList.find((candidate) => candidate.name === name)?.info();
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
    this.stopReporting();
    if (this.state === 'stopping') {
      this.state = 'stopped';
      this.settleDone();
    }
  }

  private async startChild(child: SupervisedChild): Promise<void> {
    const process_ = await this.launcher.launch(child);
    child.state = this.state === 'running' ? 'running' : 'stopping';
    void process_.exited.then((exit) => {
      this.onExit(child, process_, exit);
    });
    if (child.state === 'stopping') {
      await process_.terminate(child.spec.shutdownTimeoutMs);
      return;
    }
    this.emit('child-started', child.info());
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
    const cleared = child.releaseLeftovers(this.system.registry).catch(() => undefined);
    this.emit('child-exited', {
      name: child.name,
      pid: process_.pid,
      reason,
      ...exit,
    } satisfies ChildExit);
    if (reason === 'stopped' || !child.wantsRestart(exit, reason)) return;
    const failure = `child "${child.name}" (pid ${process_.pid}) ${reason === 'exited' ? describeExit(exit) : `was killed: ${reason}`}`;
    this.recovery = this.recovery.then(() => cleared).then(() => this.recover(child, failure));
  }

  /** Restarts per strategy after `failed` died; gives up past the intensity. */
  private async recover(failed: SupervisedChild, failure: string): Promise<void> {
    if (this.state !== 'running') return;
    if (!this.intensity.allow()) {
      await this.escalate(failure);
      return;
    }
    const toRestart = restartGroup(this.options.strategy, this.childList, failed);
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
    const delay = backoffDelayMs(backoff, this.intensity.recent);
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
    for (const child of children) await child.stop();
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
      `supervisor ${this.address}: child "${child.name}" (pid ${process_.pid}) ${detail}; terminating it`,
    );
    void process_.terminate(child.spec.shutdownTimeoutMs);
  }
}
