/**
 * The dashboard in a real browser (Debian's chromium, driven by
 * playwright-core): a supervisor running the pi computation, the dashboard
 * from the built CLI, and the page showing the actor tree, a restart after
 * kill -9 of a child, and the pi chart. Saves a screenshot to
 * test-artifacts/dashboard.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { DashboardSnapshot } from '../../src/index.js';
import {
  assertBuildIsCurrent,
  redisActorsCli,
  repoRoot,
  runCommand,
  uniqueNamespace,
} from '../helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(repoRoot, 'test-artifacts');

async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(
      `no chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  });
  onTestFinished(() => browser.close());
  return browser;
}

async function snapshotOf(url: string): Promise<DashboardSnapshot> {
  const response = await fetch(`${url}snapshot.json`);
  return (await response.json()) as DashboardSnapshot;
}

describe('dashboard in a browser', () => {
  beforeAll(assertBuildIsCurrent);

  it(
    'shows the actor tree, a restart after kill -9 and the pi chart',
    { timeout: 90_000 },
    async () => {
      const namespace = uniqueNamespace();
      const pi = runCommand(
        'npm',
        ['run', '--silent', 'pi', '--', '--workers', '2', '--samples', '1e15', '--batch', '200000'],
        { REDIS_ACTORS_NAMESPACE: namespace },
      );
      onTestFinished(() => {
        pi.signalGroup('SIGINT');
      });
      await pi.waitForLine(/pi-worker-2\s+pid \d+/, 60_000);
      const dashboard = redisActorsCli(
        ['dashboard', '--port', '0', '--interval-ms', '500'],
        namespace,
      );
      const url =
        (await dashboard.waitForLine(/^dashboard of namespace .* on http:\/\/\S+$/)).split(
          ' on ',
        )[1] ?? '';

      const browser = await launch();
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(url);
      const tree = page.getByTestId('actor-tree');
      await tree.locator('[data-testid="actor-row"][data-name="pi-collector"]').waitFor();
      await tree.locator('[data-testid="actor-row"][data-name="pi-worker-1"]').waitFor();
      await tree.locator('[data-testid="actor-row"][data-name="pi-worker-2"]').waitFor();
      await page.locator('[data-testid="child-row"][data-child="pi-worker-1"]').first().waitFor();

      const before = await snapshotOf(url);
      const victim = before.actors.find((actor) => actor.name === 'pi-worker-1');
      expect(victim?.pid).toBeGreaterThan(0);
      process.kill(victim?.pid ?? 0, 'SIGKILL');
      await page
        .locator('[data-testid="event-row"][data-kind="restarted"][data-child="pi-worker-1"]')
        .waitFor({ timeout: 30_000 });
      await page
        .locator('[data-testid="child-row"][data-child="pi-worker-1"][data-restarts="1"]')
        .first()
        .waitFor();

      const chart = page.getByTestId('pi-chart');
      await chart.locator('svg [data-series="estimate"]').waitFor();
      await chart.locator('svg [data-series="band"]').waitFor();
      const estimate = Number(await page.getByTestId('pi-estimate').textContent());
      expect(Math.abs(estimate - Math.PI)).toBeLessThan(0.1);

      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
    },
  );
});
