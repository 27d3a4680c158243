import type { MonitorEvent } from '../index.js';
import { PROBE_TYPE, isClusterUrl, printable, redactUrl } from '../internal.js';
import type { Command } from './command.js';
import { connect, resolveUrl } from './connect.js';
import { EXIT } from './usage.js';

/** Asks seen, by id, so replies can show their latency; bounded so memory stays flat. */
class AskClock {
  private readonly asks = new Map<string, { at: number; type: string }>();
  constructor(private readonly capacity = 100_000) {}

  sawAsk(id: string, at: number, type: string): void {
    if (this.asks.size >= this.capacity) {
      const oldest = this.asks.keys().next();
      if (oldest.done !== true) this.asks.delete(oldest.value);
    }
    this.asks.set(id, { at, type });
  }

  sawReply(correlationId: string, at: number): { latencyMs: number; type: string } | undefined {
    const ask = this.asks.get(correlationId);
    if (ask === undefined) return undefined;
    this.asks.delete(correlationId);
    return { latencyMs: at - ask.at, type: ask.type };
  }
}

export interface MonitorLine {
  time: string;
  channel: string;
  kind: string;
  from?: string;
  to?: string;
  type?: string;
  id?: string;
  correlationId?: string;
  size: number;
  latencyMs?: number;
  text?: string;
  problem?: string;
}

export function describeEvent(event: MonitorEvent, clock: AskClock): MonitorLine {
  const base = { time: new Date(event.at).toISOString(), channel: event.channel, size: event.size };
  const envelope = event.envelope;
  if (envelope === undefined) {
    const kind = event.target.startsWith('topic:') ? 'topic' : 'invalid';
    return {
      ...base,
      kind,
      to: event.target,
      text: event.text,
      ...(kind === 'invalid' && event.problem !== undefined ? { problem: event.problem } : {}),
    };
  }
  const line: MonitorLine = {
    ...base,
    kind: envelope.kind,
    from: envelope.from,
    to: envelope.to,
    id: envelope.id,
  };
  if (envelope.kind === 'tell' || envelope.kind === 'ask') line.type = envelope.type;
  if (envelope.kind === 'ask') clock.sawAsk(envelope.id, event.at, envelope.type);
  if (envelope.kind === 'reply' || envelope.kind === 'error') {
    line.correlationId = envelope.correlationId;
    const answered = clock.sawReply(envelope.correlationId, event.at);
    if (answered !== undefined) {
      line.latencyMs = answered.latencyMs;
      line.type = answered.type;
    }
  }
  return line;
}

function formatLine(line: MonitorLine): string {
  const time = line.time.slice(11, 23);
  const size = `${line.size} B`;
  if (line.kind === 'topic' || line.kind === 'invalid') {
    const text = (line.text ?? '').replace(/\s+/g, ' ');
    const shown = text.length > 120 ? `${text.slice(0, 117)}...` : text;
    return [time, line.kind.padEnd(6), line.to ?? '', size, line.problem ?? shown].join('  ');
  }
  const route = `${line.from ?? '?'} -> ${line.to ?? '?'}`;
  const type =
    line.kind === 'reply' || line.kind === 'error' ? `(${line.type ?? '?'})` : (line.type ?? '');
  const latency = line.latencyMs === undefined ? '' : `${line.latencyMs} ms`;
  return [time, line.kind.padEnd(6), route, type, size, latency]
    .filter((part) => part !== '')
    .join('  ');
}

export const monitorCommand: Command = {
  name: 'monitor',
  summary: 'show the decoded traffic of the namespace, live',
  help: `usage: redis-actors monitor [--json]

Prints every message published in the namespace as it passes: time, kind
(tell, ask, reply, error, topic), from -> to, type, size, and for replies the
latency since the ask was seen. --json prints one JSON object per line.
The probes a process sends its own mailbox after a reconnect are not shown.
Ctrl-C stops it.`,
  options: { json: { type: 'boolean' } },
  async run({ values }, global) {
    const system = await connect(global);
    const clock = new AskClock();
    const json = values.json === true;
    await system.monitor((event) => {
      // A process's check of its own mailbox after a reconnect: noise to a reader.
      if (event.envelope?.kind === 'tell' && event.envelope.type === PROBE_TYPE) return;
      const line = describeEvent(event, clock);
      // Wire data, from anyone: no escape sequence reaches the terminal.
      process.stdout.write(`${printable(json ? JSON.stringify(line) : formatLine(line))}\n`);
    });
    const url = resolveUrl(global);
    process.stderr.write(
      `monitoring namespace "${system.namespace}" on ${redactUrl(url)}; Ctrl-C to stop\n`,
    );
    if (isClusterUrl(url)) {
      process.stderr.write(
        'on a Redis Cluster the monitor sees channels that have a subscriber, from within a second ' +
          'of their first one (sharded pub/sub has no patterns); publishes nobody receives are not shown\n',
      );
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await system.stop();
    return EXIT.ok;
  },
};
