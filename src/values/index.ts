/** Shared values: named values of a group in one Redis hash, typed, atomic, watched. */
export { INLINE_NOTIFICATION_BYTES, SharedValues, VERSION_FIELD } from './shared-values.js';
export type { SharedValuesHost, ValueChange, ValueName } from './shared-values.js';
export { decodeValue, encodeValue } from './value-codec.js';
