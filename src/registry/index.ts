/** Presence of live actors, and names owned by one actor at a time. */
export { Registry } from './registry.js';
export type { ActorInfo, PresenceEntry } from './registry.js';
export { Presence } from './presence.js';
export type { PresenceParts, RetiredActor } from './presence.js';
export { addressCandidates, claimProcessAddress } from './address-claim.js';
export { ownerOfToken, processOf } from './name-claims.js';
export type { ClaimState } from './name-claims.js';
