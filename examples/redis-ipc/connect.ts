/**
 * Command-line options shared by the printer and its client: `--url <redis url>`,
 * `--ripc` (redis-ipc's socket, /tmp/redis-ipc/socket unless RIPC_SERVER_PATH or
 * RIPC_RUNTIME_DIR say otherwise), `--component <name>` (default `printer`).
 * Without --url or --ripc: REDIS_URL, else the private broker (npx redis-actors broker).
 */
import { parseArgs } from 'node:util';
import { RedisIpc } from 'redis-actors/redis-ipc';

export function exampleArgs() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      ripc: { type: 'boolean', default: false },
      component: { type: 'string', default: 'printer' },
      pages: { type: 'string', default: '3' },
    },
  });
  return { values, positionals, printer: values.component };
}

export function connectAs(
  component: string,
  values: { url?: string; ripc?: boolean },
): Promise<RedisIpc> {
  return RedisIpc.connect({
    component,
    ...(values.url === undefined ? {} : { url: values.url }),
    ripc: values.ripc === true,
  });
}
