/**
 * What the pi collector must have counted, worked out independently of it:
 * Redis's MONITOR stream lists every command in the order Redis ran it, so
 * the messages on the collector's channel appear in the order the collector
 * received them. Replayed here with the collector's rules (from its
 * SUBSCRIBE on, each batch id counted once, nothing once the samples target
 * is reached), they give what each contributor must be credited.
 */
import { Redis } from 'ioredis';

interface Envelope {
  kind?: unknown;
  type?: unknown;
  from?: unknown;
  body?: unknown;
}

export class CollectorReplay {
  /** Samples counted per contributor address. */
  readonly credited = new Map<string, number>();
  /** Batches whose id was counted already. */
  duplicates = 0;
  total = 0;
  private listening = false;
  private targetSamples: number | undefined;
  private done = false;
  private readonly ids = new Map<string, Set<string>>();

  constructor(private readonly channel: string) {}

  /** One command as MONITOR reports it: name, then arguments. */
  command(args: readonly string[]): void {
    const [name = '', channel, payload] = args;
    if (/^subscribe$/i.test(name) && args.slice(1).includes(this.channel)) this.listening = true;
    if (!/^publish$/i.test(name) || channel !== this.channel || payload === undefined) return;
    if (!this.listening || this.done) return;
    const parsed = JSON.parse(payload) as Envelope | Envelope[];
    // Messages sent in one event-loop turn to one channel travel as one array.
    for (const envelope of Array.isArray(parsed) ? parsed : [parsed]) this.envelope(envelope);
  }

  private envelope({ kind, type, from, body }: Envelope): void {
    if (this.done) return;
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    if (kind === 'ask' && type === 'target') {
      this.targetSamples = typeof fields.samples === 'number' ? fields.samples : undefined;
    } else if (type === 'samples' && typeof from === 'string') {
      const { id, total } = fields;
      if (typeof id !== 'string' || typeof total !== 'number') {
        throw new Error(`a batch without an id or total: ${JSON.stringify(body)}`);
      }
      const seen = this.ids.get(from) ?? new Set<string>();
      this.ids.set(from, seen);
      if (seen.has(id)) {
        this.duplicates++;
        return;
      }
      seen.add(id);
      this.total += total;
      this.credited.set(from, (this.credited.get(from) ?? 0) + total);
    } else {
      return;
    }
    if (this.targetSamples !== undefined && this.total >= this.targetSamples) this.done = true;
  }
}

/** A MONITOR connection feeding `replay`; `stop()` closes it. */
export async function monitorInto(
  url: string,
  replay: CollectorReplay,
): Promise<{ stop(): void; errors: unknown[] }> {
  const errors: unknown[] = [];
  const client = new Redis(url, { maxRetriesPerRequest: 0 });
  client.on('error', (error: unknown) => errors.push(error));
  const monitor = await client.monitor();
  monitor.on('error', (error: unknown) => errors.push(error));
  monitor.on('monitor', (_time: string, args: string[]) => {
    try {
      replay.command(args);
    } catch (error) {
      errors.push(error);
    }
  });
  return {
    errors,
    stop() {
      monitor.disconnect();
      client.disconnect();
    },
  };
}
