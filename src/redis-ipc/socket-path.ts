/**
 * Where redis-ipc's server listens: `RIPC_SERVER_PATH` when set (the C
 * library's override), else `$RIPC_RUNTIME_DIR/redis-ipc/socket` with
 * RIPC_RUNTIME_DIR defaulting to the temp directory (/tmp), as the Python
 * module computes it.
 */
import os from 'node:os';
import path from 'node:path';

export function redisIpcSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.RIPC_SERVER_PATH;
  if (explicit !== undefined && explicit !== '') return explicit;
  const runtimeDir = env.RIPC_RUNTIME_DIR;
  return path.join(
    runtimeDir === undefined || runtimeDir === '' ? os.tmpdir() : runtimeDir,
    'redis-ipc',
    'socket',
  );
}
