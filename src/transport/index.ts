/** What the layers above may use of the transport (the only code that talks to ioredis and sockets). */
export type {
  CommandArgument,
  DedicatedConnection,
  MessageHandler,
  PublishCallback,
  ReplyCallback,
  RespValue,
  Transport,
  TransportEvents,
  TransportOptions,
  TransportState,
} from './transport.js';
export { connectTransport } from './connect.js';
export { isClusterUrl } from './cluster/cluster-url.js';
export { commandOnEveryNode } from './cluster/every-node.js';
export type { ConnectionTuning } from './connection-tuning.js';
export {
  CONNECTION_TUNING_KEYS,
  DEFAULT_CONNECTION_TUNING,
  definedTuning,
  tuningOf,
} from './connection-tuning.js';
export { ChannelListeners } from './channel-listeners.js';
export type { PayloadListener, Unsubscribe } from './channel-listeners.js';
export { sharedConnectionRefusal } from './command-policy.js';
export { RedisReplyError } from './resp.js';
export type { RedisEndpoint, TlsOptions } from './redis-url.js';
export { parseRedisUrl, redactUrl } from './redis-url.js';
export { InProcessBroker, InProcessTransport } from './in-process-transport.js';
export { Script } from './script.js';
export { TLS_ENV, serverNameFor, tlsEnvironment, tlsFromEnvironment } from './tls.js';
export { asPermissionError } from './permission.js';
export type { CommandMonitor, CommandMonitorOptions } from './command-monitor.js';
export { MonitorRefusedError, MonitoredCommand, openCommandMonitor } from './command-monitor.js';
