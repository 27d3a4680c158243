import type { ActorSystem, MonitorEvent } from '../index.js';
import { PROBE_TYPE, createStderrLogger, isClusterUrl, printable, redactUrl } from '../internal.js';
import type { Command } from './command.js';
import { connect, resolveUrl } from './connect.js';
import { EXIT, UsageError } from './usage.js';

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
  /** `XADD` for an append to a durable mailbox, `SPUBLISH` for a sharded publish (MONITOR mode only). */
  command?: string;
}

export function describeEvent(event: MonitorEvent, clock: AskClock): MonitorLine {
  const base = {
    time: new Date(event.at).toISOString(),
    channel: event.channel,
    size: event.size,
    // PUBLISH is what a message is unless said otherwise.
    ...(event.command === undefined || event.command === 'PUBLISH'
      ? {}
      : { command: event.command }),
  };
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
  const appended = line.command === 'XADD' ? '(durable append)' : '';
  return [time, line.kind.padEnd(6), route, type, size, latency, appended]
    .filter((part) => part !== '')
    .join('  ');
}

/** What the monitor says on stderr when it starts, about how it watches. */
function notices(
  handle: Awaited<ReturnType<ActorSystem['monitor']>>,
  namespace: string,
  cluster: boolean,
): string[] {
  if (handle.mode === 'monitor') {
    return [
      `watching with Redis MONITOR${cluster ? ' on every master' : ''}: it changes nothing for senders, ` +
        'but the server copies every command it runs to this monitor, which costs it throughput',
    ];
  }
  const how =
    handle.fallbackReason === undefined
      ? `watching with PSUBSCRIBE ${namespace}:* (--mode psubscribe)`
      : `Redis refused MONITOR (${handle.fallbackReason}); fell back to PSUBSCRIBE ${namespace}:*`;
  if (cluster) {
    return [
      how,
      'on a Redis Cluster the monitor sees channels that have a subscriber, from within a second ' +
        'of their first one (sharded pub/sub has no patterns); publishes nobody receives are not ' +
        'shown; while it watches a channel it counts as one more receiver, for up to a second ' +
        'after the last real one left',
    ];
  }
  return [
    `${how}, which counts as a receiver of every channel of the namespace: while this runs, an ` +
      'ask to a name or address nobody serves waits for its timeout instead of failing at once ' +
      'with NoRecipientError, and a message to a durable name that its sender does not know as ' +
      'durable yet is taken as delivered instead of appended to its mailbox',
  ];
}

export const monitorCommand: Command = {
  name: 'monitor',
  summary: 'show the decoded traffic of the namespace, live',
  help: `usage: redis-actors monitor [--json] [--mode auto|monitor|psubscribe]

Prints every message published in the namespace, or appended to one of its
durable mailboxes, as it passes: time, kind (tell, ask, reply, error, topic),
from -> to, type, size, and for replies the latency since the ask was seen.
--json prints one JSON object per line.
The probes a process sends its own mailbox after a reconnect are not shown.
Ctrl-C stops it.

It watches with Redis MONITOR (on every master of a cluster), which changes
nothing for senders but costs the server throughput: Redis formats every
command it runs, of every client, for each monitor (a 64 MB SET holds the
server about 4 s). A command whose MONITOR line is over 4 MiB (a stranger's
large SET) is skipped and counted; a message of the namespace among them
shows as "oversized".

Where Redis refuses MONITOR (an ACL user, as made by redis-actors acl, or a
managed Redis that disables it), it falls back to PSUBSCRIBE <namespace>:*
and says so: that pattern subscription counts as a receiver of every
channel, so while it runs an ask to a name nobody serves waits for its
timeout instead of failing with NoRecipientError.

  --mode monitor      MONITOR only: exit 7 (permission) when Redis refuses it
  --mode psubscribe   PSUBSCRIBE without trying MONITOR (whose refusal an ACL
                      user's server records in ACL LOG each time)`,
  options: { json: { type: 'boolean' }, mode: { type: 'string' } },
  async run({ values }, global) {
    const mode = (values.mode as string | undefined) ?? 'auto';
    if (mode !== 'auto' && mode !== 'monitor' && mode !== 'psubscribe') {
      throw new UsageError(`--mode must be auto, monitor or psubscribe, not "${mode}"`);
    }
    const system = await connect(global);
    const clock = new AskClock();
    const json = values.json === true;
    const handle = await system.monitor(
      (event) => {
        // A process's check of its own mailbox after a reconnect: noise to a reader.
        if (event.envelope?.kind === 'tell' && event.envelope.type === PROBE_TYPE) return;
        const line = describeEvent(event, clock);
        // Wire data, from anyone: no escape sequence reaches the terminal.
        process.stdout.write(`${printable(json ? JSON.stringify(line) : formatLine(line))}\n`);
      },
      // Skipped lines and a lost MONITOR connection are worth saying here.
      { logger: createStderrLogger('warn'), mode },
    );
    const url = resolveUrl(global);
    process.stderr.write(
      `monitoring namespace "${system.namespace}" on ${redactUrl(url)}; Ctrl-C to stop\n`,
    );
    for (const notice of notices(handle, system.namespace, isClusterUrl(url))) {
      process.stderr.write(`${printable(notice)}\n`);
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    const { oversizedLines } = handle.stats();
    if (oversizedLines > 0) {
      process.stderr.write(
        `skipped ${oversizedLines} MONITOR line${oversizedLines === 1 ? '' : 's'} over the limit\n`,
      );
    }
    await handle();
    await system.stop();
    return EXIT.ok;
  },
};
