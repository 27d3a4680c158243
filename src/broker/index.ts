export type { Broker, FindBrokerOptions } from './find-broker.js';
export { findBroker, startPrivateBroker } from './find-broker.js';
export { discoverBrokerUrl } from './discovery.js';
export type { RunningRedisServer, StartRedisServerOptions } from './redis-server.js';
export { startRedisServer } from './redis-server.js';
export { defaultRuntimeDir } from './runtime-dir.js';
export { namespaceAclArguments, namespaceAclLine } from './acl.js';
export type { NamespaceAclOptions } from './acl.js';
