/**
 * One entry of a durable mailbox handed to its actor, settled exactly once:
 * acknowledged (handled, or an answered ask), retried (the handler failed),
 * buried (no retry can help) or released (this actor stops: another consumer
 * takes it over).
 */

/** What the inbox does with a settled delivery. */
export interface DeliverySettler {
  ack(delivery: Delivery): void;
  retry(delivery: Delivery, error: unknown): void;
  bury(delivery: Delivery, reason: string): void;
  release(delivery: Delivery): void;
}

export class Delivery {
  private settled = false;

  constructor(
    /** The stream entry id. */
    readonly entryId: string,
    /** 1 on the first delivery; each redelivery (retry, takeover) adds one. */
    readonly deliveryCount: number,
    private readonly settler: DeliverySettler,
  ) {}

  ack(): void {
    if (this.settle()) this.settler.ack(this);
  }

  retry(error: unknown): void {
    if (this.settle()) this.settler.retry(this, error);
  }

  bury(reason: string): void {
    if (this.settle()) this.settler.bury(this, reason);
  }

  release(): void {
    if (this.settle()) this.settler.release(this);
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }
}
