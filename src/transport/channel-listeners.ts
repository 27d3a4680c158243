/**
 * Local fan-out of Redis subscriptions: any number of listeners in this process
 * share one SUBSCRIBE per channel (or PSUBSCRIBE per pattern), which is
 * released when the last of them leaves.
 */
import type { Transport } from './transport.js';

/** Ends a subscription. */
export type Unsubscribe = () => Promise<void>;

/** Receives the payloads of a channel (or of every channel matching a pattern). */
export type PayloadListener = (payload: Buffer, channel: string) => void;

/**
 * Shares one Redis subscription per channel (or, in `pattern` mode, per glob
 * pattern) among any number of local listeners.
 */
export class ChannelListeners {
  private readonly listeners = new Map<string, Set<PayloadListener>>();

  constructor(
    private readonly transport: Transport,
    private readonly mode: 'channel' | 'pattern' = 'channel',
  ) {}

  async add(channel: string, listener: PayloadListener): Promise<Unsubscribe> {
    let set = this.listeners.get(channel);
    if (set === undefined) {
      const created = new Set<PayloadListener>();
      set = created;
      this.listeners.set(channel, created);
      const deliver = (payload: Buffer, from: string): void => {
        // Every listener gets the payload even when one throws; the first error is
        // passed on to the transport, which reports it.
        let failed = false;
        let failure: unknown;
        for (const each of created) {
          try {
            each(payload, from);
          } catch (error) {
            if (!failed) failure = error;
            failed = true;
          }
        }
        if (failed) throw failure;
      };
      try {
        if (this.mode === 'pattern') await this.transport.psubscribe(channel, deliver);
        else await this.transport.subscribe(channel, deliver);
      } catch (error) {
        this.listeners.delete(channel);
        throw error;
      }
    }
    set.add(listener);
    const owner = set;
    return async () => {
      if (!owner.delete(listener) || owner.size > 0 || this.listeners.get(channel) !== owner)
        return;
      this.listeners.delete(channel);
      if (this.mode === 'pattern') await this.transport.punsubscribe(channel);
      else await this.transport.unsubscribe(channel);
    };
  }
}
