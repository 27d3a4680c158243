/**
 * redis-ipc compatibility: command queues, settings, status, event and debug
 * channels, wire-compatible with redis-ipc's C library and Python module.
 * Import from `redis-actors/redis-ipc`.
 *
 * @packageDocumentation
 */
export { RedisIpc, DebugLevel } from './redis-ipc.js';
export type {
  DebugMessage,
  EventOrigin,
  RedisIpcOptions,
  RedisIpcStats,
  SendCommandOptions,
} from './redis-ipc.js';
export { CommandServer, errorResult } from './command-server.js';
export type {
  CommandContext,
  CommandHandler,
  CommandServerStats,
  ServeCommandsOptions,
} from './command-server.js';
export { IpcHash } from './ipc-hash.js';
export type { IpcFieldValue, ReadonlyIpcHash } from './ipc-hash.js';
export type { IpcMessage } from './ipc-message.js';
export { ipcPayload } from './ipc-message.js';
export { serveActor } from './serve-actor.js';
export type { ServeActorOptions } from './serve-actor.js';
export { redisIpcSocketPath } from './socket-path.js';
export { ipcTimestamp } from './common-fields.js';
export * as ipcNames from './names.js';
export { CommandTimeoutError } from '../errors.js';
export type { Unsubscribe } from '../internal.js';
