/**
 * The dashboard's HTTP server: the page (static files shipped in the
 * package, nothing fetched from elsewhere), the live snapshots as
 * server-sent events, and the namespace's metrics in the Prometheus text
 * format. It has no authentication, so it listens on loopback unless told
 * otherwise, and on loopback it answers only requests addressed to loopback
 * (a web page elsewhere cannot reach it by DNS rebinding).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../errors.js';
import { type ActorSystem, PROMETHEUS_CONTENT_TYPE, prometheusText } from '../core/index.js';
import { NamespaceWatcher } from './namespace-watcher.js';

export interface DashboardOptions {
  /** TCP port; 0 picks a free one. @default 8737 */
  port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** How often the view is refreshed. @default 1000 */
  intervalMs?: number;
  /** The Redis URL to show on the page (its password is removed). */
  url: string;
}

export interface RunningDashboard {
  /** Where the page is, e.g. `http://127.0.0.1:8737/`. */
  url: string;
  watcher: NamespaceWatcher;
  close(): Promise<void>;
}

export const DEFAULT_DASHBOARD_PORT = 8737;
/** Pages watching at once; more get 503 (each costs a snapshot a second). */
const MAX_EVENT_STREAMS = 32;
/** A page that has not read this much is skipped until it catches up. */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The page's directory: beside this file in src/, or src/ of the package from dist/. */
function pageDirectory(): string {
  for (const candidate of ['./page/', '../../../src/dashboard/page/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (fs.existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('the dashboard page is missing from the package (src/dashboard/page/)');
}

/** The page's files by request path, read once. */
function pageFiles(): Map<string, { type: string; body: Buffer }> {
  const dir = pageDirectory();
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of fs.readdirSync(dir)) {
    const extension = /^[\w-]+\.(html|js|css)$/.exec(name)?.[1];
    const type = extension === undefined ? undefined : CONTENT_TYPES[extension];
    if (type === undefined) continue;
    const body = fs.readFileSync(`${dir}${name}`);
    files.set(`/${name}`, { type, body });
    if (name === 'index.html') files.set('/', { type, body });
  }
  return files;
}

function hostOfHeader(header: string | undefined): string {
  if (header === undefined) return '';
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']'));
  return header.split(':')[0] ?? '';
}

/** Serves the dashboard of `system`'s namespace; resolves once it listens. */
export async function startDashboard(
  system: ActorSystem,
  options: DashboardOptions,
): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_DASHBOARD_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidOptionError('port', `${port} is not a TCP port (0-65535)`);
  const files = pageFiles();
  const watcher = new NamespaceWatcher(system, {
    url: options.url,
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
  });
  await watcher.start();
  const streams = new Set<http.ServerResponse>();
  const onLoopback = LOOPBACK.has(host);
  const removeListener = watcher.onSnapshot((snapshot) => {
    const frame = `event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`;
    for (const stream of streams) if (stream.writableLength < MAX_UNREAD_BYTES) stream.write(frame);
  });

  const server = http.createServer((request, response) => {
    if (onLoopback && !LOOPBACK.has(hostOfHeader(request.headers.host))) {
      response.writeHead(421, { 'content-type': 'text/plain' });
      response.end('this dashboard answers only requests to 127.0.0.1, localhost or [::1]\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const common = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };
    if (path === '/events') {
      if (streams.size >= MAX_EVENT_STREAMS) {
        response.writeHead(503, { 'content-type': 'text/plain', ...common });
        response.end(`at most ${MAX_EVENT_STREAMS} pages watch at once\n`);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream', ...common });
      response.write(
        `retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(watcher.snapshot())}\n\n`,
      );
      streams.add(response);
      request.on('close', () => streams.delete(response));
      return;
    }
    if (path === '/snapshot.json') {
      response.writeHead(200, { 'content-type': 'application/json', ...common });
      response.end(JSON.stringify(watcher.snapshot()));
      return;
    }
    if (path === '/metrics') {
      const reports = watcher.processReports();
      response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, ...common });
      response.end(prometheusText(reports, reports.length));
      return;
    }
    const file = files.get(path);
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain', ...common }).end('not found\n');
      return;
    }
    response.writeHead(200, {
      'content-type': file.type,
      // The page runs only its own scripts and styles, and connects only back here.
      'content-security-policy':
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:",
      ...common,
    });
    response.end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}/`,
    watcher,
    async close() {
      removeListener();
      for (const stream of streams) stream.end();
      const closed = new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      server.closeAllConnections();
      await closed;
      await watcher.stop();
    },
  };
}
