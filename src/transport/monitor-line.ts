/**
 * The lines Redis writes to a MONITOR client, read as hostile input: anyone
 * on the server issues the commands they show, so a line is as long as the
 * largest command anyone sends (a 500 MB SET is a 2 GB line, since every
 * byte may be escaped as `\xHH`). {@link BoundedLines} splits the stream into
 * lines of at most a given length, skipping longer ones with constant memory;
 * {@link MonitoredCommand} decodes one line,
 *
 *     +<seconds>.<micros> [<db> <client>] "arg" "arg" …
 *
 * where each argument is written by Redis's `sdscatrepr`: printable ASCII as
 * it is, `\\ \" \n \r \t \a \b`, and `\xHH` for every other byte.
 */

const NEWLINE = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;

/** Bytes of an oversized line kept to say what it was: enough for its command, key or channel. */
export const OVERSIZED_HEAD_BYTES = 8 * 1024;

/** Receives the lines of a {@link BoundedLines}. */
export interface LineSink {
  /** A whole line, without its `\r\n` (a view of memory the next feed may reuse: copy to keep). */
  line(line: Buffer): void;
  /** A line longer than the bound was skipped: its first bytes and its length. */
  oversized(head: Buffer, lineBytes: number): void;
}

/**
 * Splits a byte stream into `\n`-terminated lines of at most `maxLineBytes`.
 * A longer line is not kept: once it passes the bound only its first
 * {@link OVERSIZED_HEAD_BYTES} stay, the rest is counted and dropped up to
 * the next `\n`, so memory stays within the bound whatever arrives.
 */
export class BoundedLines {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** While skipping an oversized line: its head, and how long it is so far. */
  private skipping: { head: Buffer; bytes: number } | undefined;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  feed(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        this.keep(chunk.subarray(start));
        return;
      }
      this.finish(chunk.subarray(start, end));
      start = end + 1;
    }
  }

  /** Drops a partial line (the connection it came on is gone). */
  reset(): void {
    this.parts = [];
    this.partBytes = 0;
    this.skipping = undefined;
  }

  /** The start or middle of a line whose end has not arrived. */
  private keep(piece: Buffer): void {
    if (this.skipping !== undefined) {
      this.skipping.bytes += piece.length;
      return;
    }
    if (this.partBytes + piece.length <= this.maxLineBytes) {
      // Not copied: a socket hands out a fresh buffer per read, never reused.
      this.parts.push(piece);
      this.partBytes += piece.length;
      return;
    }
    this.skipping = { head: this.headWith(piece), bytes: this.partBytes + piece.length };
    this.parts = [];
    this.partBytes = 0;
  }

  /** The end of a line (without the `\n`). */
  private finish(last: Buffer): void {
    const skipping = this.skipping;
    if (skipping !== undefined) {
      this.skipping = undefined;
      this.sink.oversized(skipping.head, skipping.bytes + last.length + 1);
      return;
    }
    const bytes = this.partBytes + last.length;
    if (bytes > this.maxLineBytes) {
      const head = this.headWith(last);
      this.parts = [];
      this.partBytes = 0;
      this.sink.oversized(head, bytes + 1);
      return;
    }
    const line = this.parts.length === 0 ? last : Buffer.concat([...this.parts, last], bytes);
    this.parts = [];
    this.partBytes = 0;
    const length = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    this.sink.line(line.subarray(0, length));
  }

  /** The first bytes of the line held so far followed by `piece`, copied. */
  private headWith(piece: Buffer): Buffer {
    const held = this.parts.length === 0 ? Buffer.alloc(0) : Buffer.concat(this.parts);
    const head = Buffer.concat([held.subarray(0, OVERSIZED_HEAD_BYTES), piece]);
    return Buffer.from(head.subarray(0, OVERSIZED_HEAD_BYTES));
  }
}

/** `+<seconds>.<micros> [<db> ` at the start of a MONITOR line. */
const LINE_START = /^\+(\d+)\.(\d{1,6}) \[(\d+) /;

/**
 * One command of a MONITOR line. The arguments are decoded on demand and in
 * order, so a reader that only wants PUBLISHes of one namespace decodes the
 * command name and channel of every other command, never its payload. A line
 * cut short (the head of an oversized one) decodes as far as it is whole.
 */
export class MonitoredCommand {
  private readonly decoded: Buffer[] = [];
  /** Where the next argument starts, or -1 once the line has no more whole ones. */
  private next: number;

  private constructor(
    private readonly line: Buffer,
    /** The server's clock when it ran the command, ms since the epoch. */
    readonly serverTime: number,
    /** The database the client had selected (pub/sub ignores it; keys do not). */
    readonly db: number,
    /** Who sent it: `<ip>:<port>`, `unix:<socket path>`, or `lua` for a command a script ran. */
    readonly client: string,
    argsStart: number,
  ) {
    this.next = argsStart;
  }

  /**
   * Parses the fixed part of a line. Returns `undefined` for anything that is
   * not a command line (a `+OK`, a `+PONG` or an error reply).
   */
  static parse(line: Buffer): MonitoredCommand | undefined {
    // The fixed part is short: match it on a short prefix, whatever the line's length.
    const prefix = line.toString('latin1', 0, Math.min(line.length, 64));
    const match = LINE_START.exec(prefix);
    if (match === null) return undefined;
    const [whole, seconds, micros, db] = match as unknown as [string, string, string, string];
    // The client ends at the first `] "` (a unix socket path is the server's own setting).
    const clientEnd = line.indexOf('] "', whole.length, 'latin1');
    if (clientEnd === -1) return undefined;
    const client = line.toString('utf8', whole.length, clientEnd);
    const time = Number(seconds) * 1000 + Number(micros.padEnd(6, '0')) / 1000;
    return new MonitoredCommand(line, time, Number(db), client, clientEnd + 2);
  }

  /** The command's name in lower case (`publish`), or `undefined` when the line holds none. */
  get name(): string | undefined {
    return this.arg(0)?.toString('latin1').toLowerCase();
  }

  /** Argument `index` (0 is the command's name) as bytes, or `undefined` past the last whole one. */
  arg(index: number): Buffer | undefined {
    while (this.decoded.length <= index) {
      const value = this.decodeNext();
      if (value === undefined) return undefined;
      this.decoded.push(value);
    }
    return this.decoded[index];
  }

  private decodeNext(): Buffer | undefined {
    const line = this.line;
    let at = this.next;
    if (at < 0 || at >= line.length) return undefined;
    if (line[at] === SPACE) at++;
    if (line[at] !== QUOTE) {
      this.next = -1;
      return undefined;
    }
    at++;
    const end = closingQuote(line, at);
    if (end === -1) {
      this.next = -1;
      return undefined;
    }
    this.next = end + 1;
    return unescape(line, at, end);
  }
}

/**
 * Where the argument starting at `start` (just past its opening quote) ends:
 * the first quote after an even number of backslashes; -1 when the line ends first.
 */
function closingQuote(line: Buffer, start: number): number {
  let quote = line.indexOf(QUOTE, start);
  while (quote !== -1) {
    let slashes = 0;
    // Runs of backslashes before successive quotes are disjoint: linear overall.
    while (quote - slashes - 1 >= start && line[quote - slashes - 1] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote;
    quote = line.indexOf(QUOTE, quote + 1);
  }
  return -1;
}

const SIMPLE_ESCAPES: Record<number, number> = {
  0x6e /* n */: 0x0a,
  0x72 /* r */: 0x0d,
  0x74 /* t */: 0x09,
  0x61 /* a */: 0x07,
  0x62 /* b */: 0x08,
};

/** The value of a hexadecimal digit, or -1. */
function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** The bytes `sdscatrepr` wrote as `line[start, end)` (between the quotes). */
export function unescape(line: Buffer, start: number, end: number): Buffer {
  const first = line.indexOf(BACKSLASH, start);
  // Most arguments (names, channels, JSON of ASCII text) have no escape at all.
  if (first === -1 || first >= end) return Buffer.from(line.subarray(start, end));
  const out = Buffer.allocUnsafe(end - start);
  let written = line.copy(out, 0, start, first);
  for (let at = first; at < end; at++) {
    const byte = line[at] as number;
    if (byte !== BACKSLASH) {
      out[written++] = byte;
      continue;
    }
    const kind = line[++at] ?? 0;
    if (kind === 0x78 /* x */ && at + 2 < end) {
      const high = hexDigit(line[at + 1] as number);
      const low = hexDigit(line[at + 2] as number);
      if (high >= 0 && low >= 0) {
        out[written++] = high * 16 + low;
        at += 2;
        continue;
      }
    }
    // Redis writes no other escape; anything else stands for itself.
    out[written++] = SIMPLE_ESCAPES[kind] ?? kind;
  }
  // A view would keep the whole allocation alive: copy when most of it is unused.
  return written * 2 < out.length
    ? Buffer.from(out.subarray(0, written))
    : out.subarray(0, written);
}
