import type { ActorInfo, ActorSystem, HealthReport } from '../index.js';
import { HEALTH_TYPE } from '../index.js';
import type { Command } from './command.js';
import { withSystem } from './connect.js';
import { EXIT } from './usage.js';
import { printable, printableLines } from '../internal.js';

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

/** How long `ls` waits for each actor's health report. */
const HEALTH_TIMEOUT_MS = 1000;

/** A registry entry with the actor's answer to `health` (null when it gave none in time). */
export interface ActorListing extends ActorInfo {
  health: HealthReport | null;
  /** Why there is no health report. */
  healthError?: string;
}

function totalDropped(report: HealthReport): number {
  return (Object.values(report.dropped) as number[]).reduce((sum, count) => sum + count, 0);
}

function redisState(report: HealthReport): string {
  if (!report.connected) return 'down';
  return report.subscribed ? 'ok' : 'deaf';
}

/** The live members of a durable pool share one row. */
function pooled(actors: readonly ActorListing[]): (ActorListing | ActorListing[])[] {
  const byName = new Map<string, ActorListing[]>();
  for (const actor of actors) {
    if (actor.name !== undefined && actor.pool === true) {
      byName.set(actor.name, [...(byName.get(actor.name) ?? []), actor]);
    }
  }
  const rows: (ActorListing | ActorListing[])[] = [];
  for (const actor of actors) {
    const members =
      actor.name === undefined || actor.pool !== true ? undefined : byName.get(actor.name);
    if (members === undefined) rows.push(actor);
    else if (members[0] === actor) rows.push(members);
  }
  return rows;
}

function poolRow(members: readonly ActorListing[], now: number): string[] {
  const reports = members.map((member) => member.health);
  const answered = reports.filter((report): report is HealthReport => report !== null);
  const sum = (pick: (report: HealthReport) => number) =>
    String(answered.reduce((total, report) => total + pick(report), 0));
  const states = [
    ...new Set(reports.map((report) => (report === null ? 'no-answer' : redisState(report)))),
  ];
  return [
    members[0]?.name ?? '-',
    `pool of ${members.length}`,
    [...new Set(members.map((member) => member.host))].join(','),
    members.map((member) => String(member.pid)).join(','),
    ago(now - Math.min(...members.map((member) => member.startedAt))),
    `${ago(now - Math.max(...members.map((member) => member.lastHeartbeat)))} ago`,
    states.join(','),
    `${sum((report) => report.mailboxDepth)}/${sum((report) => report.mailboxCapacity)}`,
    sum((report) => report.pendingAsks),
    sum(totalDropped),
  ].map(printable);
}

export function formatActors(actors: readonly ActorListing[], now = Date.now()): string {
  if (actors.length === 0) return 'no live actors in this namespace';
  return table([
    ['NAME', 'ADDRESS', 'HOST', 'PID', 'UP', 'HEARTBEAT', 'REDIS', 'MAILBOX', 'PENDING', 'DROPPED'],
    ...pooled(actors).map((actor) => {
      if (Array.isArray(actor)) return poolRow(actor, now);
      const health = actor.health;
      // Registry entries may have been written by anyone: no cell may break the table or the terminal.
      return [
        actor.name ?? '-',
        actor.address,
        actor.host,
        String(actor.pid),
        ago(now - actor.startedAt),
        `${ago(now - actor.lastHeartbeat)} ago`,
        ...(health === null
          ? ['no-answer', '?', '?', '?']
          : [
              redisState(health),
              `${health.mailboxDepth}/${health.mailboxCapacity}`,
              String(health.pendingAsks),
              String(totalDropped(health)),
            ]),
      ].map(printable);
    }),
  ]);
}

/** Each live actor with its health report, asked of all of them at once. */
async function listWithHealth(system: ActorSystem): Promise<ActorListing[]> {
  const actors = await system.registry.list();
  return Promise.all(
    actors.map(async (actor): Promise<ActorListing> => {
      try {
        const health = await system.ask<HealthReport>(actor.address, HEALTH_TYPE, undefined, {
          timeoutMs: HEALTH_TIMEOUT_MS,
        });
        return { ...actor, health };
      } catch (error) {
        return { ...actor, health: null, healthError: (error as Error).message };
      }
    }),
  );
}

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list the live actors of the namespace',
  help: `usage: redis-actors ls [--json]

Lists live actors from the registry: name, address, host, pid, uptime and
last heartbeat, with what each one answers to a "health" ask (within 1 s):
REDIS (ok; down: no connection; deaf: mailbox not proven live), MAILBOX
(waiting/capacity), PENDING (asks of its process awaiting replies) and DROPPED
(messages its process dropped, all causes; --json has them by cause).
The members of a durable pool share one row, "pool of N", with their hosts
and pids and their figures summed; --json marks each with "pool": true.
"no-answer" means the actor did not answer in time. --json prints the list,
with each full health report, as JSON instead.`,
  options: { json: { type: 'boolean' } },
  async run({ values }, global) {
    const actors = await withSystem(global, listWithHealth);
    process.stdout.write(
      `${values.json === true ? printableLines(JSON.stringify(actors, null, 2)) : formatActors(actors)}\n`,
    );
    return EXIT.ok;
  },
};
