/**
 * The `health` message: every actor answers an ask of type `health` with a
 * {@link HealthReport}, straight from its actor system (it does not wait in
 * the mailbox, so an overloaded actor still answers), unless its definition
 * has a `health` handler of its own.
 */
import os from 'node:os';
import type { ActorStats, DropCounts, SystemStats } from './stats.js';

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

/** The health report of `actor` (or of the process alone) from its system's stats. */
export function healthReport(
  stats: SystemStats,
  actor: ActorStats | undefined,
  startedAt: number,
): HealthReport {
  const memory = process.memoryUsage();
  return {
    address: actor?.address ?? stats.address,
    name: actor?.name,
    system: stats.address,
    host: os.hostname(),
    pid: process.pid,
    state: stats.state,
    connected: stats.connected,
    subscribed: stats.subscribed,
    connectionLosses: stats.connectionLosses,
    pendingAsks: stats.pendingAsks,
    mailboxDepth: actor?.mailboxDepth ?? 0,
    mailboxCapacity: actor?.mailboxCapacity ?? 0,
    processing: actor?.processing ?? 0,
    handled: actor?.handled ?? 0,
    failed: actor?.failed ?? 0,
    dropped: stats.dropped,
    invalidByReason: stats.invalidByReason,
    uptimeMs: Date.now() - startedAt,
    memory: { rss: memory.rss, heapUsed: memory.heapUsed },
  };
}
