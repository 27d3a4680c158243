/**
 * redis-actors: actors in Node.js processes that talk through Redis.
 *
 * @packageDocumentation
 */
export { ActorSystem } from './actor-system.js';
export type { SpawnOptions } from './actor-system.js';
export { ActorRef } from './actor-ref.js';
export { runActor } from './child.js';
export type { RunActorOptions, RunningActor } from './child.js';
export { Supervisor } from './supervisor.js';
export type {
  ChildExit,
  ChildInfo,
  ChildSpec,
  ChildState,
  ExitReason,
  RestartBackoff,
  RestartType,
  SupervisionStrategy,
  SupervisorOptions,
} from './supervisor.js';
export type { OutputSink, ProcessExit } from './supervised-process.js';
export { runSupervisor } from './run-supervisor.js';
export type { RunSupervisorOptions, RunningSupervisor } from './run-supervisor.js';
export { defineActor } from './actor.js';
export type {
  ActorDefinition,
  ActorLifecycleContext,
  AskOptions,
  BodyOf,
  Handler,
  HandlerContext,
  Handlers,
  MessageInfo,
  MessageSender,
  MessageTypeOf,
  ReplyOf,
} from './actor.js';
export {
  AskTimeoutError,
  CommandTimeoutError,
  BrokerNotFoundError,
  ConnectionError,
  EscalationError,
  InvalidMessageError,
  InvalidOptionError,
  MailboxFullError,
  MailboxLostError,
  MessageTooLargeError,
  NameTakenError,
  NoRecipientError,
  RedisActorsError,
  RemoteError,
  ShuttingDownError,
  SpawnError,
  UnknownMessageTypeError,
} from './errors.js';
export type { RemoteErrorInfo } from './errors.js';
export { Topic } from './topic.js';
export type { InvalidPayloadHandler } from './topic.js';
export type { Unsubscribe } from './channel-listeners.js';
export { SharedValues } from './shared-values.js';
export type { ValueChange, ValueName } from './shared-values.js';
export type { MonitorEvent } from './monitor.js';
export type { CommandArgument, RespValue } from './transport/transport.js';
export { RedisReplyError } from './transport/resp.js';
export { DEFAULTS } from './options.js';
export type { ActorSystemOptions, MailboxOptions, OverflowPolicy } from './options.js';
export type { TlsOptions } from './transport/redis-url.js';
export type { ActorStats, DropCounts, SystemStats } from './stats.js';
export { HEALTH_TYPE } from './health.js';
export type { HealthReport } from './health.js';
export type { ActorInfo, Registry } from './registry.js';
export type { Logger, LogLevel } from './logger.js';
export { createStderrLogger } from './logger.js';
export { DEFAULT_NAMESPACE } from './address.js';
export { PROTOCOL_VERSION } from './envelope.js';
export type { Envelope, EnvelopeKind } from './envelope.js';
export {
  findBroker,
  startPrivateBroker,
  startRedisServer,
  discoverBrokerUrl,
} from './broker/index.js';
export type {
  Broker,
  FindBrokerOptions,
  RunningRedisServer,
  StartRedisServerOptions,
} from './broker/index.js';
