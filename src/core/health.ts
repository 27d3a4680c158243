/**
 * The `health` message: every actor answers an ask of type `health` with a
 * {@link HealthReport}, straight from its actor system (it does not wait in
 * the mailbox, so an overloaded actor still answers), unless its definition
 * has a `health` handler of its own.
 */
import type { DropCounts, SystemStats } from './stats.js';

/** Message type every actor answers with its {@link HealthReport}. */
export const HEALTH_TYPE = 'health';

/** State and counters of one actor and of the actor system hosting it. */
export interface HealthReport {
  /** The actor's address (the process address when the process hosts no actor). */
  address: string;
  name: string | undefined;
  /** Address of the process (its actor system). */
  system: string;
  host: string;
  pid: number;
  state: SystemStats['state'];
  /** The publishing connection is up. */
  connected: boolean;
  /** Every mailbox is subscribed and, after a reconnect, proven live by a probe through Redis. */
  subscribed: boolean;
  /** Times the connection to Redis was lost since start. */
  connectionLosses: number;
  /** Asks of this process waiting for their reply. */
  pendingAsks: number;
  /** Messages waiting in the actor's mailbox. */
  mailboxDepth: number;
  mailboxCapacity: number;
  /** Messages being handled right now. */
  processing: number;
  /** Messages the actor handled (successfully or not). */
  handled: number;
  /** Handlers that threw. */
  failed: number;
  /** Messages not processed, by cause, for the whole process. */
  dropped: DropCounts;
  invalidByReason: Record<string, number>;
  uptimeMs: number;
  /** `process.memoryUsage()` figures, in bytes. */
  memory: { rss: number; heapUsed: number };
}
