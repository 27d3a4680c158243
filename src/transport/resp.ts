/**
 * The Redis wire protocol (RESP2): encoding commands and parsing replies.
 * Written for the hot path: integer replies (PUBLISH) parse without allocating,
 * and a large bulk reply is assembled once instead of re-scanned per chunk.
 */

/** An error reply from Redis (`-ERR …`), delivered as a value to the command's callback. */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

export type RespValue = number | string | Buffer | null | RedisReplyError | RespValue[];

/** One command, ready to write: a string when every argument is text, chunks otherwise. */
export type EncodedCommand = string | Buffer[];

/** One argument: text, bytes, or bytes in several chunks (written without joining them). */
export type CommandArgument = string | Buffer | readonly Buffer[];

export function encodeCommand(args: readonly CommandArgument[]): EncodedCommand {
  let text = `*${args.length}\r\n`;
  let chunks: Buffer[] | undefined;
  for (const arg of args) {
    if (typeof arg === 'string') {
      text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    } else if (Buffer.isBuffer(arg)) {
      chunks ??= [];
      chunks.push(Buffer.from(`${text}$${arg.length}\r\n`), arg);
      text = '\r\n';
    } else {
      chunks ??= [];
      const length = arg.reduce((sum, chunk) => sum + chunk.length, 0);
      chunks.push(Buffer.from(`${text}$${length}\r\n`), ...arg);
      text = '\r\n';
    }
  }
  if (chunks === undefined) return text;
  chunks.push(Buffer.from(text));
  return chunks;
}

/** Bytes of an encoded command (a string's length in UTF-16 units is close enough). */
export function encodedCommandSize(encoded: EncodedCommand): number {
  if (typeof encoded === 'string') return encoded.length;
  let size = 0;
  for (const chunk of encoded) size += chunk.length;
  return size;
}

const CR = 13;
const INCOMPLETE = Symbol('incomplete');
/** parse() started streaming a large bulk reply into its own buffer. */
const STREAMING = Symbol('streaming');
type Parsed = RespValue | typeof INCOMPLETE | typeof STREAMING;

/**
 * A top-level bulk reply at least this large is copied straight into a buffer
 * of its own as chunks arrive: one copy, no concatenation of held chunks, and
 * the result starts at offset 0 of its memory (so typed arrays can view it).
 */
const STREAM_BULK_BYTES = 256 * 1024;

interface StreamingBulk {
  target: Buffer;
  filled: number;
  /** Bytes of the closing CRLF still to skip. */
  trailer: number;
}

/** Incremental RESP2 reply parser; calls `onReply` once per complete reply, in order. */
export class RespParser {
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;
  /** Chunks held back until at least `required` bytes are buffered. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private required = 0;
  /** Where the top-level reply being parsed began, so a bulk length says how much to hold. */
  private replyStart = 0;
  private streaming: StreamingBulk | undefined;

  constructor(private readonly onReply: (value: RespValue) => void) {}

  feed(input: Buffer): void {
    let chunk = input;
    if (this.streaming !== undefined) {
      const used = this.continueStreaming(chunk);
      if (used === chunk.length) return;
      chunk = chunk.subarray(used);
    }
    if (this.required > 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes < this.required) return;
      this.buffer = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      this.heldBytes = 0;
      this.required = 0;
    } else if (this.offset < this.buffer.length) {
      this.buffer = Buffer.concat([this.buffer.subarray(this.offset), chunk]);
    } else {
      this.buffer = chunk;
    }
    this.offset = 0;
    while (this.offset < this.buffer.length) {
      this.replyStart = this.offset;
      const value = this.parse();
      if (value === STREAMING) {
        this.buffer = Buffer.alloc(0);
        this.offset = 0;
        return;
      }
      if (value === INCOMPLETE) {
        this.offset = this.replyStart;
        this.holdRemainder();
        return;
      }
      this.onReply(value);
    }
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
  }

  /** Copies `chunk` into the bulk being streamed; returns how many bytes it used. */
  private continueStreaming(chunk: Buffer): number {
    const streaming = this.streaming as StreamingBulk;
    let used = 0;
    if (streaming.filled < streaming.target.length) {
      used = chunk.copy(streaming.target, streaming.filled, 0);
      streaming.filled += used;
    }
    const trailer = Math.min(streaming.trailer, chunk.length - used);
    streaming.trailer -= trailer;
    used += trailer;
    if (streaming.filled === streaming.target.length && streaming.trailer === 0) {
      this.streaming = undefined;
      this.onReply(streaming.target);
    }
    return used;
  }

  /** Drops any partial reply, e.g. after the connection was lost. */
  reset(): void {
    this.streaming = undefined;
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    this.held = [];
    this.heldBytes = 0;
    this.required = 0;
  }

  private holdRemainder(): void {
    const rest = this.buffer.subarray(this.offset);
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    this.held = [rest];
    this.heldBytes = rest.length;
    // At least one more byte is needed; a known bulk length raises the bar further.
    this.required = Math.max(this.required, rest.length + 1);
  }

  private parse(): Parsed {
    const buffer = this.buffer;
    if (this.offset >= buffer.length) return INCOMPLETE;
    const type = buffer[this.offset];
    const lineEnd = buffer.indexOf(CR, this.offset + 1);
    if (lineEnd < 0 || lineEnd + 1 >= buffer.length) return INCOMPLETE;
    const lineStart = this.offset + 1;
    switch (type) {
      case 0x3a /* : */:
        this.offset = lineEnd + 2;
        return readInteger(buffer, lineStart, lineEnd);
      case 0x2b /* + */:
        this.offset = lineEnd + 2;
        return buffer.toString('utf8', lineStart, lineEnd);
      case 0x2d /* - */:
        this.offset = lineEnd + 2;
        return new RedisReplyError(buffer.toString('utf8', lineStart, lineEnd));
      case 0x24 /* $ */: {
        const length = readInteger(buffer, lineStart, lineEnd);
        if (length < 0) {
          this.offset = lineEnd + 2;
          return null;
        }
        const dataStart = lineEnd + 2;
        const dataEnd = dataStart + length;
        if (dataEnd + 2 > buffer.length) {
          if (length >= STREAM_BULK_BYTES && this.offset === this.replyStart) {
            this.streaming = { target: Buffer.allocUnsafeSlow(length), filled: 0, trailer: 2 };
            this.continueStreaming(buffer.subarray(dataStart));
            return STREAMING;
          }
          this.required = dataEnd + 2 - this.replyStart;
          return INCOMPLETE;
        }
        this.offset = dataEnd + 2;
        return buffer.subarray(dataStart, dataEnd);
      }
      case 0x2a /* * */: {
        const count = readInteger(buffer, lineStart, lineEnd);
        this.offset = lineEnd + 2;
        if (count < 0) return null;
        const items: RespValue[] = [];
        for (let i = 0; i < count; i++) {
          const item = this.parse();
          // Only a top-level bulk streams, so an item is never STREAMING.
          if (item === INCOMPLETE || item === STREAMING) return INCOMPLETE;
          items.push(item);
        }
        return items;
      }
      default:
        throw new RedisReplyError(
          `protocol error: unexpected byte 0x${(type ?? 0).toString(16)} in a reply`,
        );
    }
  }
}

function readInteger(buffer: Buffer, start: number, end: number): number {
  let index = start;
  let negative = false;
  if (buffer[index] === 0x2d) {
    negative = true;
    index++;
  }
  let value = 0;
  for (; index < end; index++) value = value * 10 + ((buffer[index] ?? 48) - 48);
  return negative ? -value : value;
}
