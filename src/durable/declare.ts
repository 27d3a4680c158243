/**
 * Creates (or joins) the durable mailbox of a name: its stream with the
 * consumer group, and the settings senders read (capacity, overflow policy,
 * maxDeliveries, pool or single).
 */
import { InvalidOptionError } from '../errors.js';
import type { Transport } from '../transport/index.js';
import type { DurableKeys } from './durable-keys.js';
import { DECLARE } from './durable-scripts.js';

export interface DurableSettings {
  capacity: number;
  overflow: 'reject' | 'drop';
  maxDeliveries: number;
  pool: boolean;
}

export async function declareDurable(
  transport: Transport,
  keys: DurableKeys,
  name: string,
  settings: DurableSettings,
): Promise<void> {
  const reply = await DECLARE.run(
    transport,
    [keys.config, keys.stream],
    [
      name,
      String(settings.capacity),
      settings.overflow,
      String(settings.maxDeliveries),
      settings.pool ? '1' : '0',
    ],
  );
  const text = Buffer.isBuffer(reply) ? reply.toString() : String(reply);
  if (text === 'ok') return;
  const isPool = text === 'pool:1';
  throw new InvalidOptionError(
    'mailbox.pool',
    `the durable mailbox "${name}" exists as ${isPool ? 'a pool' : 'a single actor'}: spawn it ` +
      `with pool: ${String(isPool)}, or delete its keys (${keys.stream}, ${keys.config}) first`,
  );
}
