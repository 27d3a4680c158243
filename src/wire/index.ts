/** The wire format: envelopes, their encoding, and the checks on what arrives. */
export type {
  AskEnvelope,
  ClaimReference,
  Envelope,
  EnvelopeKind,
  ReplyEnvelope,
  RequestEnvelope,
  TellEnvelope,
} from './envelope.js';
export {
  HEADER_FIELDS,
  MAX_TRACESTATE_LENGTH,
  PROTOCOL_VERSION,
  askEnvelope,
  dropInvalidTraceContext,
  envelopeProblem,
  headerField,
  isAsk,
  isReply,
  isValidTraceparent,
  isValidTracestate,
  replyEnvelope,
  tellEnvelope,
} from './envelope.js';
export type { BinaryFrame, CodecLimits, EncodedMessage } from './codec.js';
export { Codec, Refusal, combineEnvelopeTexts, encodedSize } from './codec.js';
export type { BinaryTypeName } from './binary-values.js';
export { binaryTypeOf, bytesOf, reviveBinary } from './binary-values.js';
export { ClaimCheck } from './claim-check.js';
export type { ClaimCheckOptions } from './claim-check.js';
export type { WireError } from './wire-errors.js';
export { fromWireError, toWireError } from './wire-errors.js';
export type { RecentIdsOptions, Sighting } from './dedupe.js';
export { MessageIds, RecentIds } from './dedupe.js';
export {
  DEFAULT_NAMESPACE,
  Names,
  assertValidName,
  localActorAddress,
  nextProcessAddress,
  processAddress,
  resolveNamespace,
} from './address.js';
export type { TreeProblem } from './untrusted-json.js';
export {
  DEFAULT_MAX_NESTING_DEPTH,
  MAX_NESTING_DEPTH_LIMIT,
  UNSAFE_KEYS,
  describeProblem,
  parseUntrusted,
  treeProblem,
} from './untrusted-json.js';
export type { ReadyBody } from './system-messages.js';
export {
  CLAIM_NONCE_ENV,
  HEALTH_TYPE,
  REPORT_TYPE,
  PROBE_TYPE,
  READY_TOKEN_ENV,
  MAILBOX_ENV,
  READY_TYPE,
} from './system-messages.js';
export { PayloadAuth, SIGNED_HEADER_BYTES, SIGNED_PREFIX, isSigned } from './payload-auth.js';
