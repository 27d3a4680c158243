/**
 * The child side of supervision: one call, `runActor(definition)`, at the top
 * of a module makes it a process hosting that actor. Started by a supervisor,
 * it finds the supervisor's mailbox on its command line, subscribes its own
 * `<hostname>-<pid>` mailbox, then tells the supervisor READY. Started by hand
 * (`node actors/clock.ts`), it simply runs the actor. Either way SIGINT and
 * SIGTERM stop it gracefully: the message in progress finishes, then it exits;
 * and if its mailbox is lost (MailboxLostError) it stops and exits with code 75
 * (EX_TEMPFAIL), so that its supervisor restarts it.
 */
import {
  type ActorDefinition,
  type ActorRef,
  ActorSystem,
  type ActorSystemOptions,
  type Handlers,
  type MailboxOptions,
  reportSourcesOf,
} from '../core/index.js';
import { InvalidOptionError } from '../errors.js';
import { MAILBOX_ENV, READY_TOKEN_ENV, READY_TYPE, type ReadyBody } from '../wire/index.js';
import { NAME_FLAG, PARENT_FLAG } from './supervised-process.js';
import { hasSupervisorSocket, startWatchdog } from './watchdog.js';

/** Exit code of a process whose mailbox was lost (see MailboxLostError). */
export const MAILBOX_LOST_EXIT_CODE = 75;

/** Options of {@link runActor}; every ActorSystem option applies too. */
export interface RunActorOptions extends ActorSystemOptions {
  /**
   * Name the actor is reachable by.
   * @default the name its supervisor gave it (`--redis-actors-name=`), else none
   */
  name?: string;
  /** Mailbox settings of the actor. */
  mailbox?: MailboxOptions;
  /**
   * Watchdog beat interval, when supervised.
   * @default process.env.REDIS_ACTORS_HEARTBEAT_MS, else 500
   */
  heartbeatIntervalMs?: number;
}

/** What {@link runActor} started. */
export interface RunningActor<D> {
  system: ActorSystem;
  /** The actor, at this process's address. */
  ref: ActorRef<D>;
  /** The supervisor's address, when started by one. */
  supervisor: string | undefined;
  /** Command-line arguments meant for the actor (the supervisor's own flags removed). */
  args: string[];
}

/** The supervisor's address and the child's name, taken off `process.argv`. */
function takeSupervisorFlags(): { parent: string | undefined; name: string | undefined } {
  let parent: string | undefined;
  let name: string | undefined;
  process.argv = process.argv.filter((arg) => {
    if (arg.startsWith(PARENT_FLAG)) parent = arg.slice(PARENT_FLAG.length);
    else if (arg.startsWith(NAME_FLAG)) name = arg.slice(NAME_FLAG.length);
    else return true;
    return false;
  });
  return { parent, name };
}

/**
 * The child spec's mailbox settings (MAILBOX_ENV, set by the supervisor) over
 * the module's own; taken off the environment, so that a process this one
 * starts does not inherit them.
 */
function withSupervisorMailbox(own: MailboxOptions | undefined): MailboxOptions | undefined {
  const given = process.env[MAILBOX_ENV];
  Reflect.deleteProperty(process.env, MAILBOX_ENV);
  if (given === undefined) return own;
  let parsed: unknown;
  try {
    parsed = JSON.parse(given);
  } catch {
    throw new InvalidOptionError(
      MAILBOX_ENV,
      `must be JSON mailbox settings, got ${given.slice(0, 80)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidOptionError(MAILBOX_ENV, 'must be a JSON object of mailbox settings');
  }
  return { ...own, ...(parsed as MailboxOptions) };
}

/**
 * Runs `definition` as the actor of this process. Call it once, at the top
 * level of the module a supervisor spawns. Resolves once the actor is
 * subscribed and (when supervised) READY was delivered to the supervisor.
 */
export async function runActor<H extends Handlers>(
  definition: ActorDefinition<H>,
  options: RunActorOptions = {},
): Promise<RunningActor<ActorDefinition<H>>> {
  const { parent, name: givenName } = takeSupervisorFlags();
  // Ours alone: a process this one starts must not inherit it.
  const readyToken = process.env[READY_TOKEN_ENV];
  Reflect.deleteProperty(process.env, READY_TOKEN_ENV);
  const { name = givenName, heartbeatIntervalMs, ...systemOptions } = options;
  const mailbox = withSupervisorMailbox(options.mailbox);
  const system = await ActorSystem.start(systemOptions);
  reportSourcesOf(system).supervisor = parent;
  let stopping = false;
  const stopAndExit = (): void => {
    if (stopping) return;
    stopping = true;
    void system.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stopAndExit);
  process.once('SIGINT', stopAndExit);
  // Let it crash: a process whose mailbox is gone is restarted by its supervisor
  // (which starts it afresh, with a new connection) or, if it keeps failing, escalates.
  system.on('mailbox-lost', () => {
    if (stopping) return;
    stopping = true;
    void system.stop().finally(() => process.exit(MAILBOX_LOST_EXIT_CODE));
  });
  const ref = await system.spawn(definition, {
    ...(name === undefined ? {} : { name }),
    ...(mailbox === undefined ? {} : { mailbox }),
  });
  if (parent !== undefined) {
    // Before READY: once the supervisor has READY, a message may keep this main thread
    // busy for good, and the watchdog thread must already exist to report it. Started
    // here, its boot stays off the rest of startup (imports, connections).
    if (hasSupervisorSocket()) {
      startWatchdog({
        intervalMs: heartbeatIntervalMs ?? (Number(process.env.REDIS_ACTORS_HEARTBEAT_MS) || 500),
        orphanGraceMs: 1000,
      });
    }
    const ready: ReadyBody = {
      name,
      address: ref.address,
      pid: process.pid,
      startedAt: Date.now(),
      token: readyToken,
    };
    await system.tell(parent, READY_TYPE, ready);
  }
  return { system, ref, supervisor: parent, args: process.argv.slice(2) };
}
