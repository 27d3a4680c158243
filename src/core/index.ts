/** The actor system and what it is made of, for the layers above (supervision, cli). */
export { ActorSystem } from './actor-system.js';
export type { SpawnOptions } from './actor-system.js';
export type { ActorSystemEvents } from './events.js';
export { ActorRef } from './actor-ref.js';
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
  DEFAULTS,
  positiveInteger,
  resolveActorSystemOptions,
  resolveRedisUrl,
  SECRET_ENV,
} from './options.js';
export type {
  ActorSystemOptions,
  MailboxOptions,
  OverflowPolicy,
  ResolvedActorSystemOptions,
} from './options.js';
export type { ActorStats, DropCounts, SystemStats } from './stats.js';
export type { HealthReport } from './health.js';
export { reportSourcesOf, watchTopics } from './actor-system.js';
export type {
  ProcessReport,
  ReportSources,
  SupervisedChildReport,
  SupervisionEventReport,
  SupervisionReport,
} from './process-report.js';
export { ASK_DURATION_BUCKETS } from './ask-durations.js';
export type { HistogramSnapshot } from './ask-durations.js';
export { PROMETHEUS_CONTENT_TYPE, prometheusText } from './prometheus-text.js';
