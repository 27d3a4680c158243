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

/** The handshake a supervised child tells its supervisor once its mailbox is subscribed. */
export const READY_TYPE = '$ready';

/** Body of the READY message. */
export interface ReadyBody {
  name: string | undefined;
  address: string;
  pid: number;
  startedAt: number;
}
