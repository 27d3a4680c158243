/**
 * One child of a supervisor across its lives: the record that outlives each
 * process (its spec, state, restart count), and the launch of a process for it
 * with the READY handshake — spawn, then wait for READY, the process's exit or
 * the ready timeout, whichever comes first.
 */
import { nanoid } from 'nanoid';
import { type ActorSystem, SECRET_ENV } from '../core/index.js';
import { tlsEnvironment } from '../transport/index.js';
import { SpawnError } from '../errors.js';
import { RateLimitedLog } from '../util/index.js';
import { type Registry, addressCandidates } from '../registry/index.js';
import {
  CLAIM_NONCE_ENV,
  MAILBOX_ENV,
  READY_TOKEN_ENV,
  type ReadyBody,
  processAddress,
} from '../wire/index.js';
import type { ChildInfo, ChildState, ExitReason } from './supervisor-events.js';
import type { ResolvedChildSpec, ResolvedSupervisorOptions } from './supervisor-options.js';
import { type ProcessExit, SupervisedProcess } from './supervised-process.js';

/** A supervisor's child: what stays the same across restarts, and its current process. */
export class SupervisedChild {
  state: ChildState = 'starting';
  /** The current (or last) process; replaced by each restart. */
  process: SupervisedProcess | undefined;
  address: string | undefined;
  readyAt: number | undefined;
  restarts = 0;
  /** Set when the supervisor kills the child for a missed deadline. */
  killReason: 'hung' | 'unresponsive' | undefined;
  /** The nonce of the current process's claims, handed to it in CLAIM_NONCE_ENV. */
  claimNonce = '';

  constructor(readonly spec: ResolvedChildSpec) {}

  /**
   * Frees what its current process claimed and left behind (it died without a
   * clean stop): its name and its process address, with the address its
   * registry entries. Before READY the address may be any of the ones a
   * process of that pid tries; the nonce picks this child's claims.
   */
  async releaseLeftovers(registry: Registry): Promise<void> {
    const pid = this.process?.pid;
    if (pid === undefined) return;
    const addresses =
      this.address === undefined
        ? addressCandidates(processAddress(1, undefined, pid))
        : [this.address];
    await registry.releaseClaimsOf(this.claimNonce, [this.spec.name, ...addresses]);
  }

  get name(): string {
    return this.spec.name;
  }

  /** Whether its restart type asks for a restart after this exit. */
  wantsRestart(exit: ProcessExit, reason: ExitReason): boolean {
    switch (this.spec.restart) {
      case 'permanent':
        return true;
      case 'temporary':
        return false;
      case 'transient':
        return reason !== 'exited' || exit.code !== 0 || exit.signal !== null;
    }
  }

  /** SIGTERM, then SIGKILL after its shutdown timeout; resolves once it is stopped. */
  async stop(): Promise<void> {
    const process_ = this.process;
    if (process_ === undefined || process_.hasExited) {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    await process_.terminate(this.spec.shutdownTimeoutMs);
    this.state = 'stopped';
  }

  info(): ChildInfo {
    return {
      name: this.spec.name,
      module: this.spec.module,
      restart: this.spec.restart,
      state: this.state,
      pid: this.process?.pid,
      address: this.address,
      restarts: this.restarts,
      readyAt: this.readyAt,
    };
  }
}

/** What a launch needs from its supervisor. */
export interface LaunchContext {
  system: ActorSystem;
  /** The supervisor's mailbox address: children send READY there. */
  parentAddress: string;
  output: ResolvedSupervisorOptions['output'];
  heartbeatIntervalMs: number;
}

interface ReadyWaiter {
  token: string;
  resolve(body: ReadyBody): void;
}

/** Starts child processes and matches the READY messages they send to the launch waiting. */
export class ChildLauncher {
  /** READY messages refused: malformed, for no child starting, or without its token. */
  refusedReady = 0;
  private readonly readyWaiters = new Map<number, ReadyWaiter>();
  /** A stranger may spray READY: one line per minute says how many. */
  private readonly log: RateLimitedLog;

  constructor(private readonly context: LaunchContext) {
    this.log = new RateLimitedLog(context.system.options.logger);
  }

  /** Hands a READY to the launch of the process that sent it; counts and drops any other. */
  onReady(received: unknown): void {
    // A tell body: anyone may have sent anything.
    const body = (
      typeof received === 'object' && received !== null ? received : {}
    ) as Partial<ReadyBody>;
    const waiter = typeof body.pid === 'number' ? this.readyWaiters.get(body.pid) : undefined;
    if (
      waiter === undefined ||
      typeof body.address !== 'string' ||
      typeof body.token !== 'string' ||
      body.token !== waiter.token
    ) {
      this.refusedReady++;
      this.log.warn(
        'refused-ready',
        `supervisor ${this.context.parentAddress}: refused a READY that no child of its own sent ` +
          `(${this.refusedReady} so far)`,
      );
      return;
    }
    waiter.resolve(body as ReadyBody);
  }

  /**
   * Starts a new process for `child` (which is `starting` meanwhile) and waits
   * for its READY; then `child` has its address and readyAt. If the process
   * exits first or sends no READY in time, it is killed, the child is
   * `stopped`, and SpawnError is thrown.
   */
  async launch(child: SupervisedChild): Promise<SupervisedProcess> {
    const { spec } = child;
    const { system } = this.context;
    const token = nanoid(32);
    const claimNonce = nanoid(12);
    const process_ = new SupervisedProcess({
      name: spec.name,
      actorName: spec.actorName,
      modulePath: spec.modulePath,
      execArgv: spec.execArgv,
      args: spec.args,
      parentAddress: this.context.parentAddress,
      output: this.context.output,
      env: {
        ...process.env,
        REDIS_URL: system.options.url,
        REDIS_ACTORS_NAMESPACE: system.namespace,
        // A private CA (or client certificate) must reach the child too.
        ...tlsEnvironment(system.options.tls),
        ...secretEnvironment(system.options.secret),
        REDIS_ACTORS_HEARTBEAT_MS: String(this.context.heartbeatIntervalMs),
        ...spec.env,
        ...(Object.keys(spec.mailbox).length === 0
          ? {}
          : { [MAILBOX_ENV]: JSON.stringify(spec.mailbox) }),
        [READY_TOKEN_ENV]: token,
        [CLAIM_NONCE_ENV]: claimNonce,
      },
    });
    // Set at once: a stop or an exit during startup must find the process.
    child.process = process_;
    child.claimNonce = claimNonce;
    child.state = 'starting';
    child.address = undefined;
    child.readyAt = undefined;
    child.killReason = undefined;
    const ready = new Promise<ReadyBody>((resolve) => {
      this.readyWaiters.set(process_.pid, { token, resolve });
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
      await child.releaseLeftovers(system.registry).catch(() => undefined);
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
    child.address = outcome.address;
    child.readyAt = Date.now();
    // Deadlines run from READY: loading the module may take longer than a heartbeat timeout.
    process_.lastBeatAt = child.readyAt;
    return process_;
  }
}

/**
 * The namespace secret for a child, however the supervisor got it (option,
 * file or environment): through the environment, which only the same user
 * (and root) can read, never argv.
 */
function secretEnvironment(secret: Buffer | undefined): Record<string, string> {
  if (secret === undefined) return {};
  return { [SECRET_ENV.secret]: `base64:${secret.toString('base64')}`, [SECRET_ENV.file]: '' };
}

/** How a process ended, for messages: its exit code or the signal that killed it. */
export function describeExit(exit: ProcessExit): string {
  return exit.signal === null ? `exited with code ${exit.code}` : `was killed by ${exit.signal}`;
}
