/**
 * A redis-ipc settings or status hash (`settings.<component>`,
 * `status.<component>`). On the wire every value is a string; these helpers
 * write numbers, booleans and structures as the C library does (decimal
 * text, `true`/`false`, JSON text) and read them back typed.
 */
import { DEFAULT_MAX_NESTING_DEPTH, describeProblem, parseUntrusted } from '../internal.js';
import { InvalidMessageError, InvalidOptionError } from '../errors.js';
import type { Transport } from '../internal.js';

/** What may be written to a field: scalars as text, objects and arrays as JSON text. */
export type IpcFieldValue = string | number | boolean | bigint | object;

/** Reading side of a hash. */
export interface ReadonlyIpcHash {
  /** The Redis key, e.g. `settings.printer`. */
  readonly key: string;
  /** Every field (HGETALL); `{}` when the hash does not exist. */
  getAll(): Promise<Record<string, string>>;
  /** One field (HGET); `undefined` when missing. */
  get(field: string): Promise<string | undefined>;
  /** A field holding a number; throws InvalidMessageError when it holds something else. */
  getNumber(field: string): Promise<number | undefined>;
  /** A field holding `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`). */
  getBoolean(field: string): Promise<boolean | undefined>;
  /** A field holding JSON text. */
  getJson<T = unknown>(field: string): Promise<T | undefined>;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export class IpcHash implements ReadonlyIpcHash {
  constructor(
    private readonly transport: Transport,
    readonly key: string,
  ) {}

  async getAll(): Promise<Record<string, string>> {
    const reply = await this.transport.command(['HGETALL', this.key]);
    const entries: [string, string][] = [];
    if (Array.isArray(reply)) {
      for (let i = 0; i + 1 < reply.length; i += 2) {
        entries.push([String(reply[i]), String(reply[i + 1])]);
      }
    }
    // fromEntries defines own properties: a field named "__proto__" stays a field.
    return Object.fromEntries(entries);
  }

  async get(field: string): Promise<string | undefined> {
    const reply = await this.transport.command(['HGET', this.key, field]);
    return reply === null ? undefined : String(reply);
  }

  async getNumber(field: string): Promise<number | undefined> {
    const text = await this.get(field);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) throw this.notA('number', field, text);
    return value;
  }

  async getBoolean(field: string): Promise<boolean | undefined> {
    const text = await this.get(field);
    if (text === undefined) return undefined;
    const lower = text.trim().toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
    throw this.notA('boolean', field, text);
  }

  async getJson<T = unknown>(field: string): Promise<T | undefined> {
    const text = await this.get(field);
    if (text === undefined) return undefined;
    const parsed = parseUntrusted(text, DEFAULT_MAX_NESTING_DEPTH);
    if ('problem' in parsed) {
      if (parsed.problem.reason === 'not-json') throw this.notA('JSON value', field, text);
      throw new InvalidMessageError(
        parsed.problem.reason,
        `${this.key} field "${field}" is refused (${describeProblem(parsed.problem)}); overwrite it`,
      );
    }
    return parsed.value as T;
  }

  /** Writes one field (HSET). */
  async set(field: string, value: IpcFieldValue): Promise<void> {
    await this.transport.command(['HSET', this.key, field, fieldText(field, value)]);
  }

  /** Writes several fields in one command (atomic for readers); nothing for `{}`. */
  async setAll(fields: Record<string, IpcFieldValue>): Promise<void> {
    const args: string[] = [];
    for (const [field, value] of Object.entries(fields)) args.push(field, fieldText(field, value));
    if (args.length === 0) return;
    await this.transport.command(['HSET', this.key, ...args]);
  }

  /** Removes fields (HDEL). */
  async delete(...fields: string[]): Promise<void> {
    if (fields.length > 0) await this.transport.command(['HDEL', this.key, ...fields]);
  }

  private notA(kind: string, field: string, text: string): InvalidMessageError {
    return new InvalidMessageError(
      'bad-field',
      `${this.key} field "${field}" holds ${JSON.stringify(text.slice(0, 80))}, not a ${kind}`,
    );
  }
}

function fieldText(field: string, value: IpcFieldValue): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) break;
      return String(value);
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if ((value as unknown) === null) break;
      return JSON.stringify(value);
    default:
      break;
  }
  throw new InvalidOptionError(
    `field "${field}"`,
    `${(value as unknown) === null ? 'null' : typeof value === 'number' ? String(value) : typeof value} cannot be stored; ` +
      `use a string, a finite number, a boolean, or a JSON-able object`,
  );
}
