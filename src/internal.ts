/**
 * What the outer layers of this package (cli/, redis-ipc/) use of the inner
 * ones beyond the public API: one place, so that nothing reaches into another
 * folder by a deep path. Not part of the public API.
 */
export { namespaceAclArguments, namespaceAclLine } from './broker/index.js';
export { DEFAULTS, resolveRedisUrl } from './core/index.js';
export type { MessageSender } from './core/index.js';
export {
  ChannelListeners,
  DEFAULT_CONNECTION_TUNING,
  definedTuning,
  TLS_ENV,
  commandOnEveryNode,
  connectTransport,
  isClusterUrl,
  redactUrl,
  tlsFromEnvironment,
} from './transport/index.js';
export type {
  ConnectionTuning,
  DedicatedConnection,
  TlsOptions,
  Transport,
  Unsubscribe,
} from './transport/index.js';
export { RateLimitedLog, createStderrLogger, printable, printableLines } from './util/index.js';
export type { Logger } from './util/index.js';
export {
  DEFAULT_MAX_NESTING_DEPTH,
  PROBE_TYPE,
  SIGNED_HEADER_BYTES,
  isSigned,
  describeProblem,
  parseUntrusted,
  treeProblem,
} from './wire/index.js';
