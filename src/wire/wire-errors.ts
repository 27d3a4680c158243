/**
 * How an error travels in the body of an `error` envelope: plain JSON that any
 * client can read, `{ name, message, code?, stack?, origin, details? }`.
 * `origin: "framework"` marks errors raised by the receiving runtime itself
 * (mailbox full, unknown type, …): the asker gets the same typed error back.
 * Anything a handler threw comes back as {@link RemoteError}.
 */
import * as errors from '../errors.js';
import { RedisActorsError, RemoteError } from '../errors.js';

export interface WireError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  origin: 'framework' | 'handler';
  /** Own primitive fields of a framework error (e.g. `capacity`), to rebuild it. */
  details?: Record<string, unknown>;
}

const FRAMEWORK_ERRORS: ReadonlyMap<string, typeof RedisActorsError> = new Map(
  Object.values(errors)
    .filter(
      (value): value is typeof RedisActorsError =>
        typeof value === 'function' && value.prototype instanceof RedisActorsError,
    )
    .map((errorClass) => [errorClass.name, errorClass]),
);

const RESERVED = new Set([
  'name',
  'message',
  'code',
  'stack',
  '__proto__',
  'constructor',
  'prototype',
]);

/** Own fields of an error that are JSON primitives or string lists. */
export function errorDetails(error: object): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (RESERVED.has(key)) continue;
    const kind = typeof value;
    if (kind === 'string' || kind === 'number' || kind === 'boolean' || value === null)
      details[key] = value;
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      details[key] = value;
  }
  return details;
}

/** Rebuilds a framework error of class `name` without running its constructor. */
export function reviveFrameworkError(
  name: string,
  code: string,
  message: string,
  stack: string | undefined,
  details: Record<string, unknown>,
): RedisActorsError {
  const errorClass = FRAMEWORK_ERRORS.get(name) ?? RedisActorsError;
  const error = Object.create(errorClass.prototype) as RedisActorsError;
  for (const [key, value] of Object.entries(details)) {
    if (!RESERVED.has(key)) Object.defineProperty(error, key, { value, enumerable: true });
  }
  Object.defineProperty(error, 'code', { value: code, enumerable: true });
  for (const [key, value] of [
    ['name', name],
    ['message', message],
    ['stack', stack],
  ] as const) {
    Object.defineProperty(error, key, { value, writable: true, configurable: true });
  }
  return error;
}

export function toWireError(error: unknown, origin: WireError['origin']): WireError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: `non-Error value thrown: ${String(error)}`, origin };
  }
  const code = (error as { code?: unknown }).code;
  const wire: WireError = { name: error.name, message: error.message, origin };
  if (typeof code === 'string') wire.code = code;
  if (error.stack !== undefined) wire.stack = error.stack;
  if (origin === 'framework') wire.details = errorDetails(error);
  return wire;
}

/** The error an asker sees for an `error` envelope from `from` answering `type`. */
export function fromWireError(body: unknown, from: string, type: string): Error {
  const wire = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const name = typeof wire.name === 'string' ? wire.name : 'Error';
  const message =
    typeof wire.message === 'string' ? wire.message : 'remote failure without a message';
  const code = typeof wire.code === 'string' ? wire.code : undefined;
  const stack = typeof wire.stack === 'string' ? wire.stack : undefined;
  if (wire.origin === 'framework' && code !== undefined && FRAMEWORK_ERRORS.has(name)) {
    const details =
      typeof wire.details === 'object' && wire.details !== null
        ? (wire.details as Record<string, unknown>)
        : {};
    return reviveFrameworkError(name, code, message, stack, details);
  }
  return new RemoteError(from, type, { name, message, code, stack });
}
