/**
 * Message types the framework itself sends and handles, beside those of
 * actors (see docs/PROTOCOL.md, "Message types the framework handles itself").
 */

/** Self-addressed probe that proves a mailbox live after a reconnect; never given to an actor. */
export const PROBE_TYPE = '$probe';

/**
 * Every actor answers an ask of this type with its HealthReport, straight from
 * its actor system, unless its definition has a `health` handler of its own.
 */
export const HEALTH_TYPE = 'health';

/**
 * A process answers an ask of this type to its process address with its
 * ProcessReport (counters, actors, supervised children), straight from its
 * actor system; what the dashboard asks each process once a second.
 */
export const REPORT_TYPE = '$report';

/** The handshake a supervised child tells its supervisor once its mailbox is subscribed. */
export const READY_TYPE = '$ready';

/**
 * The environment variable that hands a child its one-time READY token: only
 * the process the supervisor started knows it (it is never on the command line
 * or in Redis), so nobody else's READY is taken for the child's.
 */
export const READY_TOKEN_ENV = 'REDIS_ACTORS_READY_TOKEN';

/**
 * The environment variable that hands a child the nonce of its claims
 * (`<address>|<nonce>`): its supervisor then frees exactly what that child
 * claimed when it dies, even before READY said which address it got.
 */
export const CLAIM_NONCE_ENV = 'REDIS_ACTORS_CLAIM_NONCE';

/**
 * The environment variable that hands a child the mailbox settings its
 * supervisor's child spec gives (JSON of MailboxOptions), over its module's.
 */
export const MAILBOX_ENV = 'REDIS_ACTORS_MAILBOX';

/** Body of the READY message. */
export interface ReadyBody {
  name: string | undefined;
  address: string;
  pid: number;
  startedAt: number;
  /** The one-time token its supervisor gave the child (REDIS_ACTORS_READY_TOKEN). */
  token?: string | undefined;
}
