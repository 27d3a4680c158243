/**
 * Refusing messages an actor will not act on. Anyone who can PUBLISH on the
 * Redis can send any actor anything, under any `from`, at any rate: each
 * refusal is counted by reason (for the actor's `status`), only the first of
 * each reason is logged, so that a flood cannot flood the log, and an ask is
 * answered with InvalidMessageError while a tell, which has nobody to answer,
 * is dropped.
 */
import { type HandlerContext, InvalidMessageError } from 'redis-actors';

export class Refusals<Reason extends string> {
  private readonly counts: Record<Reason, number>;

  constructor(
    /** Who refuses, for the log line: `pi-collector`, `clock`. */
    private readonly actor: string,
    reasons: readonly Reason[],
  ) {
    this.counts = Object.fromEntries(reasons.map((reason) => [reason, 0])) as Record<
      Reason,
      number
    >;
  }

  /**
   * Counts the refusal of the message being handled; throws InvalidMessageError
   * when it is an ask (the framework turns that into the error reply), returns
   * for a tell.
   */
  refuse(reason: Reason, message: string, context: HandlerContext): void {
    if (this.counts[reason]++ === 0) {
      console.warn(
        `${this.actor} refused a "${context.message.type}" message (${reason}): ${message}; ` +
          `further refusals are only counted (see its status)`,
      );
    }
    if (context.message.kind === 'ask') throw new InvalidMessageError(reason, message);
  }

  /** Refusals so far, by reason. */
  snapshot(): Record<Reason, number> {
    return { ...this.counts };
  }
}
