/**
 * Builds the collaborators of an actor system and wires them to each other:
 * the only place that knows who needs whom. The system front keeps them and
 * owns its lifecycle state, which they read through `host`.
 */
import type { EventEmitter } from 'node:events';
import { DurableSender } from '../durable/index.js';
import { Presence, Registry } from '../registry/index.js';
import { ChannelListeners, type Transport } from '../transport/index.js';
import {
  ClaimCheck,
  Codec,
  Names,
  PROBE_TYPE,
  type PayloadAuth,
  Refusal,
  tellEnvelope,
} from '../wire/index.js';
import { AskClient } from './ask-client.js';
import { ConnectionHealth } from './connection-health.js';
import { Diagnostics } from './diagnostics.js';
import { Dispatcher } from './dispatcher.js';
import type { ActorSystemEvents } from './events.js';
import { healthReport } from './health.js';
import { ReportSources, processReport } from './process-report.js';
import { LocalActors } from './local-actors.js';
import type { ResolvedActorSystemOptions } from './options.js';
import { Outbox } from './outbox.js';
import type { SystemStats } from './stats.js';
import type { Tracing } from './tracing.js';

/** What the collaborators need of the system front. */
export interface SystemHost {
  events: EventEmitter<ActorSystemEvents>;
  state(): SystemStats['state'];
  stats(): SystemStats;
  startedAt: number;
  /** OpenTelemetry spans (tracing.ts): undefined without `@opentelemetry/api` or with `tracing: false`. */
  tracing?: Tracing | undefined;
}

export type SystemParts = ReturnType<typeof assembleSystem>;

/** Who the system is: its process address, the nonce of its claims, its namespace secret. */
export interface SystemIdentity {
  address: string;
  /** With an actor's address, the token of its claims (`<address>|<nonce>`). */
  nonce: string;
  auth: PayloadAuth | undefined;
}

export function assembleSystem(
  options: ResolvedActorSystemOptions,
  transport: Transport,
  { address, nonce, auth }: SystemIdentity,
  host: SystemHost,
) {
  const names = new Names(options.namespace);
  const codec = new Codec(options);
  const diagnostics = new Diagnostics(options.logger, address);
  const reportSources = new ReportSources();
  const isRunning = (): boolean => host.state() === 'running';
  const registry = new Registry({
    transport,
    names,
    ttlMs: options.presenceTtlMs,
    token: `${address}|${nonce}`,
    auth,
  });
  const channelListeners = new ChannelListeners(transport);
  const claimCheck = new ClaimCheck(
    transport,
    names,
    { thresholdBytes: options.claimCheckBytes, ttlMs: options.claimCheckTtlMs },
    auth,
  );
  const outbox = new Outbox({
    transport,
    codec,
    claimCheck,
    names,
    diagnostics,
    maxWriteBufferBytes: options.maxWriteBufferBytes,
    durable: new DurableSender(transport, names),
    auth,
    tracing: host.tracing,
  });
  const connection = new ConnectionHealth({
    transport,
    address,
    logger: options.logger,
    events: host.events,
    probeTimeoutMs: options.probeTimeoutMs,
    isRunning,
    newId: () => outbox.nextId(),
    sendProbe: (id, callback) => {
      outbox.send(
        tellEnvelope(id, address, address, PROBE_TYPE),
        undefined,
        names.channel(address),
        callback,
      );
    },
  });
  const asks = new AskClient({
    outbox,
    codec,
    names,
    diagnostics,
    replyTo: address,
    askTimeoutMs: options.askTimeoutMs,
    // Handlers may still send while the system drains; outside callers may not.
    maySend: (internal) => host.state() === 'running' || (internal && host.state() === 'stopping'),
    inOutage: () => connection.inOutage,
    captureStacks: options.askStackTraces,
    // Signed replies come from holders of the secret: no claim to read per reply.
    claimOf: auth === undefined ? (name) => registry.claimOf(name) : undefined,
    tracing: host.tracing,
  });
  const dispatcher = new Dispatcher({
    address,
    codec,
    claimCheck,
    diagnostics,
    outbox,
    asks,
    connection,
    maxMessageBytes: options.maxMessageBytes,
    auth,
    dedupe: {
      windowMs: options.dedupeWindowMs,
      maxEntries: options.dedupeMaxEntries,
      maxClockSkewMs: options.maxClockSkewMs,
    },
    isRunning,
    healthOf: (actor) => healthReport(host.stats(), actor?.stats(), host.startedAt),
    report: () => report(),
  });
  const presence: Presence = new Presence({
    transport,
    names,
    registry,
    address,
    nonce,
    ttlMs: options.presenceTtlMs,
    intervalMs: options.presenceIntervalMs,
    onRefreshFailed: (error) => {
      diagnostics.logOnce('presence', `presence not refreshed: ${String(error)}`);
    },
  });
  const actors: LocalActors = new LocalActors({
    address,
    transport,
    names,
    codec,
    presence,
    dispatcher,
    outbox,
    asks,
    diagnostics,
    mailboxDefaults: options.mailbox,
    maxMessageBytes: options.maxMessageBytes,
    scanIntervalMs: options.presenceIntervalMs,
    stopTimeoutMs: options.stopTimeoutMs,
    logger: options.logger,
    isDraining: () => host.state() !== 'running',
    claimOf: (name) => registry.claimOf(name),
    tracing: host.tracing,
  });
  transport.on('listener-error', (error, channel) => {
    diagnostics.refuse(
      new Refusal('listener-threw', `a listener on ${channel} threw: ${String(error)}`),
    );
  });
  const report = () =>
    processReport({
      stats: host.stats(),
      startedAt: host.startedAt,
      sentByKind: diagnostics.sentByKind,
      receivedByKind: diagnostics.receivedByKind,
      askDurations: asks.durations(),
      sources: reportSources,
    });
  return {
    report,
    reportSources,
    names,
    codec,
    auth,
    diagnostics,
    registry,
    channelListeners,
    outbox,
    connection,
    asks,
    dispatcher,
    presence,
    actors,
  };
}
