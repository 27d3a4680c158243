/**
 * An actor system's collaborators wired over the in-process broker: the
 * receive and send pipelines without Redis, for fast tests of their logic.
 * (Names cannot be claimed there: it runs no Lua. Every behaviour that
 * crosses Redis has its integration test elsewhere.) The broker here also
 * takes the HSET and HDEL of registry entries (see UnitBroker).
 */
import { EventEmitter } from 'node:events';
import { onTestFinished } from 'vitest';
import { type SystemParts, assembleSystem } from '../../src/core/assemble.js';
import type { ActorSystemEvents } from '../../src/core/events.js';
import { type ActorSystemOptions, resolveActorSystemOptions } from '../../src/core/options.js';
import type { SystemStats } from '../../src/core/stats.js';
import {
  type CommandArgument,
  InProcessBroker,
  type InProcessTransport,
  type RespValue,
} from '../../src/transport/index.js';
import { captureLogger } from '../helpers.js';

export interface InProcessSystem extends SystemParts {
  address: string;
  transport: InProcessTransport;
  events: EventEmitter<ActorSystemEvents>;
  logger: ReturnType<typeof captureLogger>;
  stop(): Promise<void>;
}

let systems = 0;

export async function inProcessSystem(
  broker: InProcessBroker,
  options: ActorSystemOptions = {},
): Promise<InProcessSystem> {
  const logger = captureLogger();
  const resolved = resolveActorSystemOptions({ url: 'memory://unit', logger, ...options });
  const address = `unit-${++systems}`;
  const transport = broker.connect(address);
  const events = new EventEmitter<ActorSystemEvents>();
  let state: SystemStats['state'] = 'running';
  const parts = assembleSystem(
    resolved,
    transport,
    { address, nonce: 'unit-nonce00', auth: undefined },
    {
      events,
      state: () => state,
      stats: () => ({
        address,
        namespace: resolved.namespace,
        state,
        connected: true,
        subscribed: true,
        connectionLosses: 0,
        pendingAsks: parts.asks.size,
        sent: parts.outbox.sent,
        received: parts.diagnostics.received,
        ...parts.diagnostics.counters(),
        actors: parts.actors.stats(),
      }),
      startedAt: Date.now(),
    },
  );
  await transport.subscribe(parts.names.channel(address), (payload, channel) => {
    parts.dispatcher.receive(payload, parts.actors.main, channel);
  });
  const stop = async (): Promise<void> => {
    state = 'stopping';
    parts.presence.stop();
    parts.connection.stop();
    await parts.actors.retire(parts.actors.all());
    parts.asks.rejectAll(() => new Error('stopped'));
    await transport.close();
    state = 'stopped';
  };
  onTestFinished(stop);
  return { ...parts, address, transport, events, logger, stop };
}

/**
 * The in-process broker plus the hash commands a spawn writes its registry
 * entry with (HSET; HDEL when it stops): entries are kept, never read here.
 */
class UnitBroker extends InProcessBroker {
  private readonly hashes = new Map<string, Map<string, string>>();

  override command(args: readonly CommandArgument[]): RespValue {
    const name = String(args[0] ?? '').toUpperCase();
    const key = String(args[1] ?? '');
    if (name !== 'HSET' && name !== 'HDEL') return super.command(args);
    const hash = this.hashes.get(key) ?? new Map<string, string>();
    this.hashes.set(key, hash);
    let changed = 0;
    if (name === 'HSET') {
      for (let i = 2; i + 1 < args.length; i += 2) {
        if (!hash.has(String(args[i]))) changed++;
        hash.set(String(args[i]), String(args[i + 1]));
      }
    } else {
      for (const field of args.slice(2)) if (hash.delete(String(field))) changed++;
    }
    return changed;
  }
}

/** A fresh broker for one test. */
export function broker(): InProcessBroker {
  return new UnitBroker();
}
