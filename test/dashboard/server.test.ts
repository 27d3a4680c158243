/**
 * The dashboard's server against a real Redis and real child processes: what
 * its snapshots say of a supervised namespace, its /metrics, its event stream,
 * and what it does with strangers' topic payloads and foreign Host headers.
 */
import http from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  type ActorSystem,
  type DashboardSnapshot,
  type RunningDashboard,
  Supervisor,
  defineActor,
  startDashboard,
} from '../../src/index.js';
import { rawClient, redisUrl, startSystem, uniqueNamespace } from '../helpers.js';

async function dashboardOf(system: ActorSystem): Promise<RunningDashboard> {
  const dashboard = await startDashboard(system, { url: redisUrl(), port: 0, intervalMs: 250 });
  onTestFinished(() => dashboard.close());
  return dashboard;
}

/** The first snapshot (the current one, or a later one) for which `matches` holds. */
function snapshotWhere(
  dashboard: RunningDashboard,
  matches: (snapshot: DashboardSnapshot) => boolean,
): Promise<DashboardSnapshot> {
  const current = dashboard.watcher.snapshot();
  if (matches(current)) return Promise.resolve(current);
  return new Promise((resolve) => {
    const remove = dashboard.watcher.onSnapshot((snapshot) => {
      if (!matches(snapshot)) return;
      remove();
      resolve(snapshot);
    });
  });
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            type: String(response.headers['content-type']),
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      })
      .on('error', reject);
  });
}

const echo = defineActor({ handlers: { echo: (body: unknown) => body } });

describe('dashboard server', () => {
  it('shows a supervisor, its children as a tree, a restart after kill -9, and serves /metrics', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const supervisor = await Supervisor.start(system, { output: () => undefined });
    onTestFinished(() => supervisor.stop());
    const first = await supervisor.spawn({ name: 'worker-a', module: 'test/fixtures/worker.ts' });
    await supervisor.spawn({ name: 'worker-b', module: 'test/fixtures/worker.ts' });
    const watcher = await startSystem({ namespace });
    const dashboard = await dashboardOf(watcher);

    const tree = await snapshotWhere(
      dashboard,
      (s) =>
        s.children.length === 2 &&
        s.processes.filter((p) => p.supervisor !== undefined).length === 2,
    );
    const supervised = tree.processes.filter((p) => p.supervisor !== undefined);
    expect(new Set(supervised.map((p) => p.supervisor))).toEqual(new Set([system.address]));
    expect(tree.children.map((c) => c.name).sort()).toEqual(['worker-a', 'worker-b']);
    expect(tree.actors.map((a) => a.name)).toEqual(
      expect.arrayContaining(['worker-a', 'worker-b']),
    );

    process.kill(first.pid ?? 0, 'SIGKILL');
    const restarted = await snapshotWhere(dashboard, (s) =>
      s.events.some((e) => e.kind === 'restarted' && e.child === 'worker-a'),
    );
    const exit = restarted.events.find((e) => e.kind === 'exited' && e.child === 'worker-a');
    expect(exit?.signal).toBe('SIGKILL');
    expect(exit?.pid).toBe(first.pid);
    expect(restarted.children.find((c) => c.name === 'worker-a')?.restarts).toBe(1);

    const metrics = await get(`${dashboard.url}metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain; version=0.0.4');
    expect(metrics.body).toContain('redis_actors_child_restarts_total{child="worker-a"} 1');
    expect(metrics.body).toMatch(/^redis_actors_processes [1-9]\d*$/m);
    expect(metrics.body).toContain('# TYPE redis_actors_ask_duration_seconds histogram');
  });

  it('counts messages per second by type and per actor', async () => {
    const namespace = uniqueNamespace();
    const server = await startSystem({ namespace });
    await server.spawn(echo, { name: 'echo' });
    const client = await startSystem({ namespace });
    const dashboard = await dashboardOf(await startSystem({ namespace }));
    const load = { asking: true };
    onTestFinished(() => {
      load.asking = false;
    });
    void (async () => {
      while (load.asking) await client.ask('echo', 'echo', 1).catch(() => undefined);
    })();
    const busy = await snapshotWhere(dashboard, (s) =>
      s.rates.some((r) => r.type === 'echo' && (r.perSec.at(-1) ?? 0) > 0),
    );
    load.asking = false;
    const actor = busy.actors.find((a) => a.name === 'echo');
    expect(actor?.handled).toBeGreaterThan(0);
    expect(busy.rateTimes.length).toBe(busy.rates[0]?.perSec.length);
  });

  it('serves the page and the event stream, and refuses requests not addressed to loopback', async () => {
    const dashboard = await dashboardOf(await startSystem({ namespace: uniqueNamespace() }));
    const page = await get(dashboard.url);
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    const rebound = await get(dashboard.url, { host: 'evil.example:8737' });
    expect(rebound.status).toBe(421);
    const frame = await new Promise<string>((resolve, reject) => {
      const request = http.get(`${dashboard.url}events`, (response) => {
        expect(response.headers['content-type']).toBe('text/event-stream');
        response.once('data', (chunk: Buffer) => {
          resolve(chunk.toString('utf8'));
          request.destroy();
        });
      });
      request.on('error', reject);
    });
    expect(frame).toMatch(/^retry: 2000\nevent: snapshot\ndata: \{/);
  });

  it('shows topics and the pi progress, and stays bounded with a stranger’s payloads', async () => {
    const namespace = uniqueNamespace();
    const dashboard = await dashboardOf(await startSystem({ namespace }));
    const stranger = rawClient();
    const big = 'x'.repeat(4 * 1024 * 1024);
    // More topics than it tracks: the quietest make room, and what comes later is shown.
    for (let i = 0; i < 300; i++) await stranger.publish(`${namespace}:topic:spam.${i}`, 'x');
    await stranger.publish(
      `${namespace}:topic:chat.lobby`,
      JSON.stringify({ name: 'bob', message: big }),
    );
    await stranger.publish(`${namespace}:topic:chat.lobby`, '{"name":"alice","message":"hi"}');
    await stranger.publish(`${namespace}:topic:chat.lobby`, '\u001b[2Jnot json');
    await stranger.publish(`${namespace}:topic:pi.progress`, '{"samples":"many","estimate":3}');
    await stranger.publish(
      `${namespace}:topic:pi.progress`,
      '{"samples":1000,"estimate":3.1,"standardError":0.05,"contributors":2,"done":false}',
    );
    await stranger.publish(
      `${namespace}:topic:pi.progress`,
      '{"samples":2000,"estimate":3.14,"standardError":0.03,"contributors":2,"done":true}',
    );
    const seen = await snapshotWhere(dashboard, (s) => s.pi?.done === true);
    const lobby = seen.topics.find((t) => t.name === 'chat.lobby');
    expect(lobby?.messages).toBe(3);
    expect(lobby?.speakers).toEqual(['alice']);
    expect(lobby?.recent.every((m) => m.text.length <= 201)).toBe(true);
    expect(seen.topics.length).toBeLessThanOrEqual(50);
    expect(seen.pi?.points.map((p) => p.samples)).toEqual([1000, 2000]);
    expect(JSON.stringify(seen).length).toBeLessThan(200_000);
  });
});
