import { describe, expect, it } from 'vitest';
import {
  RedisReplyError,
  RespParser,
  type RespValue,
  encodeCommand,
} from '../src/transport/resp.js';

function parseAll(chunks: Buffer[]): RespValue[] {
  const replies: RespValue[] = [];
  const parser = new RespParser((reply) => replies.push(reply));
  for (const chunk of chunks) parser.feed(chunk);
  return replies;
}

const wire = Buffer.from(
  ':1\r\n:-42\r\n+OK\r\n-ERR wrong\r\n$5\r\nhello\r\n$-1\r\n$0\r\n\r\n' +
    '*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n*2\r\n:7\r\n$1\r\nx\r\n*-1\r\n*0\r\n',
);

function normalise(values: RespValue[]): unknown[] {
  return values.map((value) =>
    Buffer.isBuffer(value)
      ? value.toString()
      : Array.isArray(value)
        ? normalise(value)
        : value instanceof RedisReplyError
          ? `error: ${value.message}`
          : value,
  );
}

const expected = [
  1,
  -42,
  'OK',
  'error: ERR wrong',
  'hello',
  null,
  '',
  ['message', 'ch', [7, 'x']],
  null,
  [],
];

describe('RESP', () => {
  it('parses every reply type', () => {
    expect(normalise(parseAll([wire]))).toEqual(expected);
  });

  it('parses the same replies split at every possible byte boundary', () => {
    for (let cut = 1; cut < wire.length; cut++) {
      expect(normalise(parseAll([wire.subarray(0, cut), wire.subarray(cut)]))).toEqual(expected);
    }
  });

  it('parses the replies fed one byte at a time', () => {
    const bytes = [...wire].map((byte) => Buffer.from([byte]));
    expect(normalise(parseAll(bytes))).toEqual(expected);
  });

  it('assembles a 10 MB bulk reply from 64 KB chunks, intact', () => {
    const payload = Buffer.alloc(10 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    const message = Buffer.concat([
      Buffer.from(`$${payload.length}\r\n`),
      payload,
      Buffer.from('\r\n:5\r\n'),
    ]);
    const chunks: Buffer[] = [];
    for (let at = 0; at < message.length; at += 65536)
      chunks.push(message.subarray(at, at + 65536));
    const replies = parseAll(chunks);
    expect(replies).toHaveLength(2);
    expect(Buffer.compare(replies[0] as Buffer, payload)).toBe(0);
    expect(replies[1]).toBe(5);
  });

  it('encodes text commands as one string and binary arguments without copying them', () => {
    expect(encodeCommand(['PUBLISH', 'ch', 'héllo'])).toBe(
      '*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$6\r\nhéllo\r\n',
    );
    const binary = Buffer.from([0, 1, 2, 255]);
    const encoded = encodeCommand(['SET', 'k', binary]);
    expect(Array.isArray(encoded)).toBe(true);
    expect((encoded as Buffer[]).includes(binary)).toBe(true);
    expect(Buffer.concat(encoded as Buffer[])).toEqual(
      Buffer.concat([
        Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n'),
        binary,
        Buffer.from('\r\n'),
      ]),
    );
  });
});

describe('RESP large bulk replies', () => {
  it('streams a large bulk into a buffer of its own, whatever the chunking, then goes on parsing', () => {
    const payload = Buffer.alloc(700_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const message = Buffer.concat([
      Buffer.from(`+OK\r\n$${payload.length}\r\n`),
      payload,
      Buffer.from('\r\n:7\r\n'),
    ]);
    for (const size of [1, 2, 3, 1000, 65536, 699_999, message.length]) {
      const chunks: Buffer[] = [];
      // Small chunk sizes only around the edges of the bulk, to keep this fast.
      if (size < 1000) {
        const head = message.subarray(0, 40);
        const tail = message.subarray(message.length - 40);
        for (let at = 0; at < head.length; at += size) chunks.push(head.subarray(at, at + size));
        chunks.push(message.subarray(40, message.length - 40));
        for (let at = 0; at < tail.length; at += size) chunks.push(tail.subarray(at, at + size));
      } else {
        for (let at = 0; at < message.length; at += size)
          chunks.push(message.subarray(at, at + size));
      }
      const replies = parseAll(chunks);
      expect(replies).toHaveLength(3);
      expect(replies[0]).toBe('OK');
      const bulk = replies[1] as Buffer;
      // Streamed (it did not arrive whole): the reply owns its memory from offset 0.
      if (size < message.length) expect(bulk.byteOffset).toBe(0);
      expect(Buffer.compare(bulk, payload)).toBe(0);
      expect(replies[2]).toBe(7);
    }
  });
});
