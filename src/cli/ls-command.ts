import type { ActorInfo } from '../index.js';
import type { Command } from './command.js';
import { withSystem } from './connect.js';
import { EXIT } from './usage.js';

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatActors(actors: readonly ActorInfo[], now = Date.now()): string {
  if (actors.length === 0) return 'no live actors in this namespace';
  return table([
    ['NAME', 'ADDRESS', 'HOST', 'PID', 'UP', 'HEARTBEAT'],
    ...actors.map((actor) => [
      actor.name ?? '-',
      actor.address,
      actor.host,
      String(actor.pid),
      ago(now - actor.startedAt),
      `${ago(now - actor.lastHeartbeat)} ago`,
    ]),
  ]);
}

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list the live actors of the namespace',
  help: `usage: redis-actors ls [--json]

Lists live actors from the registry: name, address, host, pid, uptime and
last heartbeat. --json prints the list as JSON instead.`,
  options: { json: { type: 'boolean' } },
  async run({ values }, global) {
    const actors = await withSystem(global, (system) => system.registry.list());
    process.stdout.write(
      `${values.json === true ? JSON.stringify(actors, null, 2) : formatActors(actors)}\n`,
    );
    return EXIT.ok;
  },
};
