/** Durable mailboxes: Redis Streams that keep messages until their actor handled them. */
export { Delivery } from './delivery.js';
export { DurableInbox } from './durable-inbox.js';
export { DurableSender } from './durable-sender.js';
export type { AppendCallback, AppendOutcome } from './durable-sender.js';
export { type DurableKeys, durableKeys, onceKey } from './durable-keys.js';
export { type DurableSettings, declareDurable } from './declare.js';
export { assertOnceKey, runOnce } from './once.js';
export { DeadLetters } from './dead-letters.js';
export type { DeadLetter } from './dead-letters.js';
