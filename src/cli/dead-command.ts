import type { ActorSystem, DeadLetter } from '../index.js';
import type { Command } from './command.js';
import { withSystem } from './connect.js';
import { EXIT, UsageError } from './usage.js';
import {
  DEFAULT_MAX_NESTING_DEPTH,
  SIGNED_HEADER_BYTES,
  isSigned,
  parseUntrusted,
  printable,
  printableLines,
} from '../internal.js';

/** Most payload bytes read to tell a dead letter's kind, type and sender. */
const DESCRIBE_BYTES = 64 * 1024;

interface Described {
  id: string;
  entry: string;
  kind: string;
  type: string;
  from: string;
  error: string;
  deliveries: number;
  consumer: string;
  at: number;
  /** Whether the payload was kept (false: too large, or the entry had none). */
  kept: boolean;
}

/** What a dead letter's envelope says of itself (it may be anything: a stranger's entry). */
function describe(letter: DeadLetter): Described {
  let kind = '?';
  let type = '?';
  let from = '?';
  const payload = letter.payload;
  if (payload !== undefined && payload.length <= DESCRIBE_BYTES) {
    const text = (isSigned(payload) ? payload.subarray(SIGNED_HEADER_BYTES) : payload).toString();
    const parsed = parseUntrusted(text, DEFAULT_MAX_NESTING_DEPTH);
    if ('value' in parsed && typeof parsed.value === 'object' && parsed.value !== null) {
      const envelope = parsed.value as Record<string, unknown>;
      if (typeof envelope.kind === 'string') kind = envelope.kind;
      if (typeof envelope.type === 'string') type = envelope.type;
      if (typeof envelope.from === 'string') from = envelope.from;
    }
  }
  const { id, entry, error, deliveries, consumer, at } = letter;
  return {
    id,
    entry,
    kind,
    type,
    from,
    error,
    deliveries,
    consumer,
    at,
    kept: payload !== undefined,
  };
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

export function formatDeadLetters(letters: readonly Described[], now = Date.now()): string {
  if (letters.length === 0) return 'no dead letters';
  const rows = [
    ['ID', 'KIND', 'TYPE', 'FROM', 'DELIVERIES', 'AGE', 'ERROR'],
    ...letters.map((letter) =>
      [
        letter.id,
        letter.kind,
        letter.type,
        letter.from,
        String(letter.deliveries),
        ago(now - letter.at),
        letter.error.split('\n')[0] ?? '',
      ].map((cell) => printable(cell.length > 120 ? `${cell.slice(0, 117)}...` : cell)),
    ),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function run(
  system: ActorSystem,
  name: string,
  values: Record<string, unknown>,
): Promise<string> {
  const letters = system.deadLetters(name);
  const { retry, drop } = values;
  if (typeof retry === 'string')
    return `${await letters.retry(retry)} put back into ${name}'s mailbox`;
  if (typeof drop === 'string') return `${await letters.drop(drop)} dropped`;
  const listed = (await letters.list(1000)).map(describe);
  return values.json === true
    ? printableLines(JSON.stringify(listed, null, 2))
    : formatDeadLetters(listed);
}

export const deadCommand: Command = {
  name: 'dead',
  summary: 'list, put back or drop the dead letters of a durable mailbox',
  help: `usage: redis-actors dead <name> [--json] [--retry <id|all>] [--drop <id|all>]

Lists the dead letters of the durable mailbox <name> (the oldest 1,000):
messages delivered maxDeliveries times without success, and entries no
delivery could handle. ID (what --retry and --drop take), KIND, TYPE and FROM
(as the message says: it may be anyone's), DELIVERIES, AGE and the last ERROR.
--json prints them as JSON. --retry <id> puts one back into the mailbox (its
deliveries count from 1 again), --retry all the oldest 1,000; letters kept
without their content (too large) cannot go back. --drop <id|all> deletes.`,
  options: { json: { type: 'boolean' }, retry: { type: 'string' }, drop: { type: 'string' } },
  async run({ positionals, values }, global) {
    const [name, ...extra] = positionals;
    if (name === undefined || extra.length > 0) {
      throw new UsageError(
        'usage: redis-actors dead <name> [--json] [--retry <id|all>] [--drop <id|all>]',
      );
    }
    if (values.retry !== undefined && values.drop !== undefined) {
      throw new UsageError('give --retry or --drop, not both');
    }
    const output = await withSystem(global, (system) => run(system, name, values));
    process.stdout.write(`${output}\n`);
    return EXIT.ok;
  },
};
