/**
 * redis-actors: actors in Node.js processes that talk through Redis.
 *
 * @packageDocumentation
 */
export { ActorSystem } from './core/actor-system.js';
export type { SpawnOptions } from './core/actor-system.js';
export type { ActorSystemEvents } from './core/events.js';
export { ActorRef } from './core/actor-ref.js';
export { runActor } from './supervision/run-actor.js';
export type { RunActorOptions, RunningActor } from './supervision/run-actor.js';
export { Supervisor } from './supervision/supervisor.js';
export type {
  ChildSpec,
  RestartBackoff,
  RestartType,
  SupervisionStrategy,
  SupervisorOptions,
} from './supervision/supervisor-options.js';
export type {
  ChildExit,
  ChildInfo,
  ChildState,
  ExitReason,
  SupervisorEvents,
} from './supervision/supervisor-events.js';
export type { OutputSink, ProcessExit } from './supervision/supervised-process.js';
export { runSupervisor } from './supervision/run-supervisor.js';
export type { RunSupervisorOptions, RunningSupervisor } from './supervision/run-supervisor.js';
export { defineActor } from './core/actor.js';
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
  OnceOptions,
  ReplyOf,
} from './core/actor.js';
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
  MonitorRefusedError,
  NameTakenError,
  NoRecipientError,
  OnceInProgressError,
  PermissionError,
  RedisActorsError,
  RemoteError,
  ShuttingDownError,
  SpawnError,
  UnknownMessageTypeError,
} from './errors.js';
export type { RemoteErrorInfo } from './errors.js';
export { Topic } from './topics/topic.js';
export type { InvalidPayloadHandler, TopicOptions } from './topics/topic.js';
export type { Unsubscribe } from './transport/channel-listeners.js';
export { SharedValues } from './values/shared-values.js';
export { DeadLetters } from './durable/dead-letters.js';
export type { DeadLetter } from './durable/dead-letters.js';
export type { ValueChange, ValueName } from './values/shared-values.js';
export type {
  MonitorEvent,
  MonitorHandle,
  MonitorMode,
  MonitorOptions,
  MonitorStats,
} from './monitor/monitor.js';
export type { CommandArgument, RespValue } from './transport/transport.js';
export { RedisReplyError } from './transport/resp.js';
export { DEFAULTS } from './core/options.js';
export type {
  ActorSystemOptions,
  AuthOptions,
  MailboxOptions,
  OverflowPolicy,
  RateLimit,
} from './core/options.js';
export type { TlsOptions } from './transport/redis-url.js';
export type { ConnectionTuning } from './transport/connection-tuning.js';
export type { ActorStats, DropCounts, SystemStats } from './core/stats.js';
export type {
  ProcessReport,
  SupervisedChildReport,
  SupervisionEventReport,
  SupervisionReport,
} from './core/process-report.js';
export type { HistogramSnapshot } from './core/ask-durations.js';
export { PROMETHEUS_CONTENT_TYPE } from './core/prometheus-text.js';
export { DEFAULT_DASHBOARD_PORT, PI_PROGRESS_TOPIC, startDashboard } from './dashboard/index.js';
export type { DashboardOptions, DashboardSnapshot, RunningDashboard } from './dashboard/index.js';
export { HEALTH_TYPE } from './wire/system-messages.js';
export type { HealthReport } from './core/health.js';
export type { ActorInfo, Registry } from './registry/registry.js';
export type { Logger, LogLevel } from './util/logger.js';
export { createStderrLogger } from './util/logger.js';
export { DEFAULT_NAMESPACE } from './wire/address.js';
export { PROTOCOL_VERSION } from './wire/envelope.js';
export type { Envelope, EnvelopeKind } from './wire/envelope.js';
export {
  findBroker,
  startPrivateBroker,
  startRedisServer,
  startLocalCluster,
  discoverBrokerUrl,
} from './broker/index.js';
export type {
  Broker,
  FindBrokerOptions,
  LocalCluster,
  LocalClusterNode,
  LocalClusterOptions,
  RunningRedisServer,
  StartRedisServerOptions,
} from './broker/index.js';
