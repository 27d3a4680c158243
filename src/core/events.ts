/** The events an actor system emits, for `system.on(…)`. */
import type { ConnectionError, MailboxLostError } from '../errors.js';

export interface ActorSystemEvents {
  /** Redis went away (or stopped answering); once per outage. Reconnecting starts at once. */
  'connection-lost': [error: ConnectionError];
  /** Both connections are back and the mailbox was proven live by a probe through Redis. */
  'connection-restored': [];
  /**
   * The mailbox could not be resubscribed (refused, e.g. NOPERM) or probes keep
   * getting lost; once per outage. Resubscribing goes on; `connection-restored`
   * follows if it succeeds.
   */
  'mailbox-lost': [error: MailboxLostError];
}
