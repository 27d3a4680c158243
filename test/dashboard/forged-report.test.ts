/**
 * Without a namespace secret anyone who reads a process's channel sees the
 * dashboard's `$report` ask and may answer it first, under that process's
 * address. The dashboard takes such an answer as a stranger's JSON: bounded,
 * zeroed where it is not a count, and it keeps refreshing.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { type DashboardSnapshot, startDashboard } from '../../src/index.js';
import { rawClient, redisUrl, runTs, startSystem, uniqueNamespace } from '../helpers.js';

interface SeenAsk {
  kind: string;
  type: string;
  id: string;
  replyTo: string;
}

describe('a forged $report answer', () => {
  it('is shown bounded, and the dashboard keeps serving', async () => {
    const namespace = uniqueNamespace();
    // A real process, stopped (SIGSTOP): listed in the registry until its presence expires,
    // and silent, so that the forger's answer is the only one.
    const child = runTs('test/fixtures/many-actors.ts', ['victim'], {
      COUNT: '1',
      REDIS_ACTORS_NAMESPACE: namespace,
      PRESENCE_TTL_MS: '60000',
    });
    const target = { address: (await child.waitForLine(/^READY /)).slice('READY '.length) };
    process.kill(child.pid, 'SIGSTOP');
    onTestFinished(() => {
      process.kill(child.pid, 'SIGCONT');
    });
    const watcher = await startSystem({ namespace });
    const stranger = rawClient();
    const listener = rawClient();
    const forgedBody = {
      system: target.address,
      host: 'evil\u001b[2J',
      pid: 'not a pid',
      memory: { rss: -1 },
      sentByKind: { tell: Number.MAX_VALUE },
      actors: Array.from({ length: 5000 }, (_, i) => ({
        address: `${target.address}/fake-${i}`,
        name: `<img src=x onerror=alert(${i})>`,
        mailboxDepth: 1e300,
      })),
      supervision: {
        children: [{ name: 'ghost', state: 'running', restarts: 1e9 }],
        events: Array.from({ length: 1000 }, (_, i) => ({
          kind: 'restarted',
          at: i,
          child: 'ghost',
        })),
      },
    };
    const forgedJson = JSON.stringify(forgedBody);
    let forged = 0;
    await listener.subscribe(`${namespace}:${target.address}`);
    listener.on('message', (_channel: string, text: string) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return;
      }
      for (const ask of (Array.isArray(parsed) ? parsed : [parsed]) as SeenAsk[]) {
        if (ask.kind !== 'ask' || ask.type !== '$report') continue;
        forged++;
        const reply =
          `{"v":1,"id":"forger.${forged}","kind":"reply","from":${JSON.stringify(target.address)},` +
          `"to":${JSON.stringify(ask.replyTo)},"correlationId":${JSON.stringify(ask.id)},` +
          `"sentAt":${Date.now()},"body":${forgedJson}}`;
        void stranger.publish(`${namespace}:${ask.replyTo}`, reply);
      }
    });
    const dashboard = await startDashboard(watcher, { url: redisUrl(), port: 0, intervalMs: 250 });
    onTestFinished(() => dashboard.close());

    const rounds: DashboardSnapshot[] = [];
    await new Promise<void>((resolve) => {
      const remove = dashboard.watcher.onSnapshot((snapshot) => {
        if (!snapshot.children.some((each) => each.name === 'ghost')) return;
        rounds.push(snapshot);
        if (rounds.length < 3) return;
        remove();
        resolve();
      });
    });
    const last = rounds.at(-1);
    const json = JSON.stringify(last);
    // Whichever answer came first, the snapshot stays within its caps.
    expect(last?.actors.length).toBeLessThanOrEqual(500);
    expect(last?.events.length).toBeLessThanOrEqual(200);
    expect(json.length).toBeLessThan(500_000);
    for (const process of last?.processes ?? []) {
      expect(Number.isFinite(process.rssBytes) && process.rssBytes >= 0).toBe(true);
      expect(process.host.length).toBeLessThanOrEqual(255);
    }
    expect(forged).toBeGreaterThan(0);
    expect(last?.children.find((each) => each.name === 'ghost')?.restarts).toBe(1e9);
    // The genuine actor is still listed: the registry, not the answer, says who lives.
    expect(last?.actors.map((actor) => actor.name)).toContain('victim-0');
    expect(last?.actors.some((actor) => actor.address.includes('/fake-'))).toBe(false);
    const metrics = await (await fetch(`${dashboard.url}metrics`)).text();
    for (const line of metrics.trimEnd().split('\n'))
      expect(line).toMatch(/^(# (HELP|TYPE) .*|redis_actors_\w+(\{.*\})? [-+\w.]+)$/);
  });
});
