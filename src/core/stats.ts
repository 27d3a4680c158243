/** Counters and state an actor system reports through `stats()` and `health`. */

/** Messages not processed, by cause. Every drop is counted here. */
export interface DropCounts {
  /** Refused input (not JSON, bad envelope, unsafe keys, oversized, …); see `invalidByReason`. */
  invalid: number;
  /** Same message id seen again within the dedupe window. */
  duplicate: number;
  /** Asks whose deadline had passed on arrival or before their turn came. */
  expired: number;
  /** Replies for asks that had already timed out or failed. */
  lateReply: number;
  /** Messages refused by a full mailbox. */
  mailboxFull: number;
  /** Tells of a type the actor has no handler for (asks get an error reply). */
  unknownType: number;
  /** Messages refused because the system was stopping. */
  shutdown: number;
  /** Tells and replies that reached no subscriber. */
  deadLetter: number;
}

export interface ActorStats {
  address: string;
  /** Registered name the actor is also reachable by. */
  name: string | undefined;
  /** Messages waiting in the mailbox. */
  mailboxDepth: number;
  /** Most messages that may wait in the mailbox. */
  mailboxCapacity: number;
  /** Messages being handled right now. */
  processing: number;
  /** Messages handled (successfully or not). */
  handled: number;
  /** Handlers that threw. */
  failed: number;
  /** Tells, asks and replies its handlers sent. */
  sent: number;
  /** Messages handled, by type. */
  handledByType: Record<string, number>;
  /** Its mailbox is durable (a stream). */
  durable: boolean;
  /** It is a member of a durable pool. */
  pool: boolean;
}

export interface SystemStats {
  address: string;
  namespace: string;
  state: 'running' | 'stopping' | 'stopped';
  /** The publishing connection is up. */
  connected: boolean;
  /**
   * Every mailbox is subscribed and, after a reconnect, proven live by a probe
   * through Redis.
   */
  subscribed: boolean;
  /** Times the connection to Redis was lost since start. */
  connectionLosses: number;
  pendingAsks: number;
  /** Envelopes published. */
  sent: number;
  /** Envelopes received on this system's mailboxes (valid or not). */
  received: number;
  dropped: DropCounts;
  /** Refused input by reason, e.g. `{ "not-json": 2 }`. */
  invalidByReason: Record<string, number>;
  actors: ActorStats[];
}

export function emptyDropCounts(): DropCounts {
  return {
    invalid: 0,
    duplicate: 0,
    expired: 0,
    lateReply: 0,
    mailboxFull: 0,
    unknownType: 0,
    shutdown: 0,
    deadLetter: 0,
  };
}
