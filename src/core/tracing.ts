/**
 * OpenTelemetry tracing of tells and asks: every line that knows about
 * OpenTelemetry is in this file. `@opentelemetry/api` is an optional peer
 * dependency, imported once per process when the first actor system starts;
 * without it (or with `tracing: false`) the system gets no {@link Tracing}
 * at all and the hot path does not even call one.
 *
 * With the API there, a span is made only while a real tracer provider is
 * registered (an SDK: NodeSDK, BasicTracerProvider, …). That is checked on
 * every send and every handler run, so a provider registered after the
 * system started is picked up by the next message, and one unregistered
 * (`trace.disable()`) stops the spans. While nothing at all is registered
 * the check is one property read (the API's global registry, see
 * {@link API_GLOBALS}); else the global provider's delegate is compared with
 * the API's no-op provider.
 *
 * What it makes (OpenTelemetry messaging semantic conventions):
 * - a tell or ask: a PRODUCER span `publish <to>` in the caller's context,
 *   its W3C context written into the envelope (`traceparent`, `tracestate`).
 *   A tell's ends once Redis delivered (or stored) it; an ask's once the ask
 *   settled (reply, error, timeout), so that it covers the round trip;
 * - a handler run: a CONSUMER span `process <to>` whose parent is the
 *   envelope's context (a new trace without one) and which links to it, active
 *   while the handler runs (sends it makes are its children, given a context
 *   manager such as AsyncLocalStorageContextManager); a handler that throws
 *   sets its status to ERROR and records the exception;
 * - a reply: carries the context of the CONSUMER span that answered.
 *
 * See docs/PROTOCOL.md ("Trace context") for the fields on the wire.
 */
import type * as OpenTelemetry from '@opentelemetry/api';
import { InvalidOptionError } from '../errors.js';
import type { Logger } from '../util/index.js';
import {
  type AskEnvelope,
  type Envelope,
  MAX_TRACESTATE_LENGTH,
  type ReplyEnvelope,
  type RequestEnvelope,
  isValidTraceparent,
  isValidTracestate,
} from '../wire/index.js';

/** `tracing` of ActorSystemOptions: `'auto'` traces when the API can be imported. */
export type TracingOption = boolean | 'auto';

/** The PRODUCER span of one tell or ask. */
export interface PublishSpan {
  /** Writes the span's context into `envelope` (each envelope the send makes). */
  inject(envelope: Envelope): void;
  /** Ends the span when `settled` settles; a rejection sets its status to ERROR. */
  endWith(settled: Promise<unknown>): void;
}

/** The CONSUMER span of one handler run. */
export interface ProcessSpan {
  /** Calls `fn(a, b)` with the span active. */
  run<A, B, R>(fn: (a: A, b: B) => R, a: A, b: B): R;
  /** The handler succeeded. */
  end(): void;
  /** The handler failed with `error`: status ERROR, the exception recorded. */
  fail(error: unknown): void;
}

/** What the hot path calls, only when the system has tracing (see the file's comment). */
export interface Tracing {
  /** The span of a tell or ask about to be sent, or undefined while no provider is registered. */
  publish(kind: 'tell' | 'ask', to: string, type: string): PublishSpan | undefined;
  /** The span of a handler about to run for `envelope`, or undefined while no provider is registered. */
  process(envelope: RequestEnvelope): ProcessSpan | undefined;
  /** Writes into `reply` the context of the span handling `ask`, if one does. */
  reply(ask: AskEnvelope, reply: ReplyEnvelope): void;
}

type Api = typeof OpenTelemetry;

const TRACER_NAME = 'redis-actors';
/**
 * Where every copy of `@opentelemetry/api` 1.x keeps its globals, so that
 * copies interoperate: a registered tracer provider is its `trace`. While it
 * has none, no provider is registered, which this one read tells without a
 * call into the API (the per-message cost of tracing that makes no spans).
 */
const API_GLOBALS = Symbol.for('opentelemetry.js.api.1');
const MESSAGING_SYSTEM = 'redis-actors';

/** The import of the API, made once per process (several systems share it). */
let imported: Promise<Api | Error> | undefined;

/**
 * The tracing of a system starting with `option`: undefined for `false`, or
 * under `'auto'` when `@opentelemetry/api` cannot be imported (silently when
 * it is not installed, with a warning when it is but fails to load). Rejects
 * with InvalidOptionError for `true` without a usable API.
 */
export async function loadTracing(
  option: TracingOption,
  logger: Logger,
): Promise<Tracing | undefined> {
  if (option === false) return undefined;
  imported ??= import('@opentelemetry/api').then(
    (module) => module,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  const api = await imported;
  const problem =
    api instanceof Error ? `cannot import @opentelemetry/api (${api.message})` : unusable(api);
  if (problem === undefined) return new OpenTelemetryTracing(api as Api);
  if (option === true) {
    throw new InvalidOptionError(
      'tracing',
      `is true, but ${problem}: install it (npm install @opentelemetry/api), or set tracing: 'auto'`,
    );
  }
  const code = api instanceof Error ? (api as NodeJS.ErrnoException).code : undefined;
  // Not installed (ESM, or CommonJS once bundled): the optional dependency is simply absent.
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  if (!missing) logger.warn(`tracing off: ${problem}`);
  return undefined;
}

/** What makes an imported API unusable here (too old, or not the API), or undefined. */
function unusable(api: Api): string | undefined {
  // What was imported is only known to be a module: checked field by field.
  const loose = api as unknown as Partial<Record<string, Partial<Record<string, unknown>>>>;
  const usable =
    typeof loose.trace?.getTracerProvider === 'function' &&
    typeof loose.context?.with === 'function' &&
    typeof loose.ProxyTracerProvider === 'function' &&
    typeof loose.createTraceState === 'function';
  return usable ? undefined : '@opentelemetry/api is older than 1.9 or incomplete';
}

/**
 * The API's no-op tracer provider: what the global provider delegates to while
 * no SDK is registered. A fresh ProxyTracerProvider, with no delegate of its
 * own, is the one public way to it in API 1.x (the peer dependency's range).
 */
function noopProvider(api: Api): unknown {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- deprecated for 2.x only
  return new api.ProxyTracerProvider().getDelegate();
}

/** The trace context of `envelope` as a remote span context, when it carries a valid one. */
function remoteContext(api: Api, envelope: Envelope): OpenTelemetry.SpanContext | undefined {
  const traceparent = envelope.traceparent;
  // The codec dropped invalid ones already; checked again, as nothing here is trusted.
  if (!isValidTraceparent(traceparent)) return undefined;
  const tracestate = envelope.tracestate;
  return {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: Number.parseInt(traceparent.slice(53, 55), 16),
    isRemote: true,
    traceState: isValidTracestate(tracestate) ? api.createTraceState(tracestate) : undefined,
  };
}

/** Writes `context` into `envelope` as W3C traceparent and tracestate (none when invalid). */
function writeContext(envelope: Envelope, context: OpenTelemetry.SpanContext): void {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${context.traceId}-${context.spanId}-${flags}`;
  // A provider's own id format that receivers would drop is not sent.
  if (!isValidTraceparent(traceparent)) return;
  envelope.traceparent = traceparent;
  const tracestate = context.traceState?.serialize();
  if (tracestate !== undefined && tracestate !== '' && tracestate.length <= MAX_TRACESTATE_LENGTH) {
    envelope.tracestate = tracestate;
  }
}

/** Sets `span`'s status to ERROR with `error` recorded. */
function recordFailure(api: Api, span: OpenTelemetry.Span, error: unknown): void {
  const exception: OpenTelemetry.Exception =
    error instanceof Error ? error : { name: 'Error', message: String(error) };
  span.recordException(exception);
  span.setStatus({
    code: api.SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

class OpenTelemetryTracing implements Tracing {
  /** The API's no-op provider: the global provider's delegate while none is registered. */
  private readonly noop: unknown;
  private provider: OpenTelemetry.TracerProvider | undefined;
  private tracer: OpenTelemetry.Tracer | undefined;
  /** The context of the CONSUMER span of each ask being handled, for its reply. */
  private readonly handling = new WeakMap<AskEnvelope, OpenTelemetry.SpanContext>();
  private asksHandled = 0;

  constructor(private readonly api: Api) {
    this.noop = noopProvider(api);
  }

  publish(kind: 'tell' | 'ask', to: string, type: string): PublishSpan | undefined {
    const tracer = this.currentTracer();
    if (tracer === undefined) return undefined;
    const api = this.api;
    const span = tracer.startSpan(
      `publish ${to}`,
      {
        kind: api.SpanKind.PRODUCER,
        attributes: {
          'messaging.system': MESSAGING_SYSTEM,
          'messaging.operation.type': 'publish',
          'messaging.operation.name': 'publish',
          'messaging.destination.name': to,
          'redis_actors.message.kind': kind,
          'redis_actors.message.type': type,
        },
      },
      api.context.active(),
    );
    return {
      inject: (envelope) => {
        // A send that falls back to a durable mailbox makes a new envelope: its id counts.
        span.setAttribute('messaging.message.id', envelope.id);
        if (envelope.kind === 'ask')
          span.setAttribute('messaging.message.conversation_id', envelope.id);
        writeContext(envelope, span.spanContext());
      },
      endWith: (settled) => {
        settled.then(
          () => {
            span.end();
          },
          (error: unknown) => {
            recordFailure(api, span, error);
            span.end();
          },
        );
      },
    };
  }

  process(envelope: RequestEnvelope): ProcessSpan | undefined {
    const tracer = this.currentTracer();
    if (tracer === undefined) return undefined;
    const api = this.api;
    const remote = remoteContext(api, envelope);
    // Never the context that happens to be active: that of whoever opened the connection.
    const parent =
      remote === undefined ? api.ROOT_CONTEXT : api.trace.setSpanContext(api.ROOT_CONTEXT, remote);
    const attributes: OpenTelemetry.Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': envelope.to,
      'messaging.message.id': envelope.id,
      'redis_actors.message.kind': envelope.kind,
      'redis_actors.message.type': envelope.type,
      'redis_actors.message.from': envelope.from,
    };
    if (envelope.kind === 'ask') attributes['messaging.message.conversation_id'] = envelope.id;
    const span = tracer.startSpan(
      `process ${envelope.to}`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes,
        links: remote === undefined ? [] : [{ context: remote }],
      },
      parent,
    );
    const active = api.trace.setSpan(api.ROOT_CONTEXT, span);
    const ask = envelope.kind === 'ask' ? envelope : undefined;
    if (ask !== undefined) {
      this.handling.set(ask, span.spanContext());
      this.asksHandled++;
    }
    const finish = (): void => {
      span.end();
      if (ask !== undefined && this.handling.delete(ask)) this.asksHandled--;
    };
    return {
      run: (fn, a, b) => api.context.with(active, fn, undefined, a, b),
      end: finish,
      fail: (error) => {
        recordFailure(api, span, error);
        finish();
      },
    };
  }

  reply(ask: AskEnvelope, reply: ReplyEnvelope): void {
    if (this.asksHandled === 0) return;
    const context = this.handling.get(ask);
    if (context !== undefined) writeContext(reply, context);
  }

  /** The registered provider's tracer, or undefined while no provider is registered. */
  private currentTracer(): OpenTelemetry.Tracer | undefined {
    const registry = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[API_GLOBALS];
    if (registry?.trace === undefined) return undefined;
    const global = this.api.trace.getTracerProvider() as OpenTelemetry.TracerProvider & {
      getDelegate?: () => OpenTelemetry.TracerProvider;
    };
    const provider = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
    if (provider === this.noop) return undefined;
    if (provider !== this.provider || this.tracer === undefined) {
      this.provider = provider;
      this.tracer = provider.getTracer(TRACER_NAME);
    }
    return this.tracer;
  }
}
