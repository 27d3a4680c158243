/**
 * Reading MONITOR lines (src/transport/monitor-line.ts) without a server:
 * Redis's escapes decoded byte-exact, lines split across any chunking, and a
 * line over the bound skipped with bounded memory, its head still readable.
 */
import { describe, expect, it } from 'vitest';
import {
  BoundedLines,
  MonitoredCommand,
  OVERSIZED_HEAD_BYTES,
} from '../src/transport/monitor-line.js';

/** What Redis's sdscatrepr writes for `bytes`, quotes included. */
function repr(bytes: Buffer): string {
  let out = '"';
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x22) out += '\\"';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x07) out += '\\a';
    else if (byte === 0x08) out += '\\b';
    else if (byte >= 0x20 && byte <= 0x7e) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

function lineOf(client: string, args: Buffer[], db = 0): Buffer {
  return Buffer.from(`+1764720000.123456 [${db} ${client}] ${args.map(repr).join(' ')}`, 'latin1');
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('a MONITOR line', () => {
  it('decodes every byte value, quotes, backslashes and newlines byte-exact', () => {
    const odd = Buffer.concat([ALL_BYTES, Buffer.from('"\\\\"\\n\n\r\t" \\x41 "" \\'), ALL_BYTES]);
    const line = lineOf('127.0.0.1:5555', [Buffer.from('PUBLISH'), Buffer.from('ns:a b'), odd]);
    const command = MonitoredCommand.parse(line);
    expect(command?.name).toBe('publish');
    expect(command?.client).toBe('127.0.0.1:5555');
    expect(command?.db).toBe(0);
    expect(command?.serverTime).toBeCloseTo(1764720000123.456, 3);
    expect(command?.arg(1)?.toString()).toBe('ns:a b');
    expect(command?.arg(2)?.equals(odd)).toBe(true);
    expect(command?.arg(3)).toBeUndefined();
  });

  it('reads the client of a script, of a unix socket and the database', () => {
    const lua = MonitoredCommand.parse(lineOf('lua', [Buffer.from('XADD')], 3));
    expect([lua?.client, lua?.db, lua?.name]).toEqual(['lua', 3, 'xadd']);
    const unix = MonitoredCommand.parse(lineOf('unix:/tmp/r.sock', [Buffer.from('get')]));
    expect(unix?.client).toBe('unix:/tmp/r.sock');
  });

  it('is no command when it is a reply, and stops at an argument cut short', () => {
    for (const reply of ['+OK', '+PONG', '-ERR no', '', '+', '+12 [x']) {
      expect(MonitoredCommand.parse(Buffer.from(reply)), reply).toBeUndefined();
    }
    const cut = lineOf('lua', [Buffer.from('PUBLISH'), Buffer.from('ns:x'), Buffer.from('abc')]);
    const command = MonitoredCommand.parse(cut.subarray(0, cut.length - 2));
    expect(command?.arg(1)?.toString()).toBe('ns:x');
    expect(command?.arg(2)).toBeUndefined();
  });
});

describe('BoundedLines', () => {
  const collect = (max: number) => {
    const lines: string[] = [];
    const oversized: { head: Buffer; bytes: number }[] = [];
    const splitter = new BoundedLines(max, {
      line: (line) => lines.push(line.toString('latin1')),
      oversized: (head, bytes) => oversized.push({ head, bytes }),
    });
    return { splitter, lines, oversized };
  };

  it('gives the same lines whatever the chunking', () => {
    const text = Buffer.from('+OK\r\n+1.5 [0 lua] "a"\r\n\r\n+PONG\r\n');
    for (let size = 1; size <= text.length; size++) {
      const { splitter, lines } = collect(100);
      for (let at = 0; at < text.length; at += size) splitter.feed(text.subarray(at, at + size));
      expect(lines, `chunks of ${size}`).toEqual(['+OK', '+1.5 [0 lua] "a"', '', '+PONG']);
    }
  });

  it('skips a line over the bound, keeps its head, and goes on with the next line', () => {
    const { splitter, lines, oversized } = collect(1000);
    const head = '+1.000001 [0 127.0.0.1:1] "SET" "k" "';
    splitter.feed(Buffer.from(`+OK\r\n${head}`));
    const filler = Buffer.alloc(64 * 1024, 0x78);
    for (let i = 0; i < 100; i++) splitter.feed(filler);
    splitter.feed(Buffer.from('"\r\n+PONG\r\n'));
    expect(lines).toEqual(['+OK', '+PONG']);
    expect(oversized).toHaveLength(1);
    expect(oversized[0]?.bytes).toBe(head.length + 100 * filler.length + 3);
    expect(oversized[0]?.head.length).toBe(OVERSIZED_HEAD_BYTES);
    const command = MonitoredCommand.parse(oversized[0]?.head ?? Buffer.alloc(0));
    expect([command?.name, command?.arg(1)?.toString(), command?.arg(2)]).toEqual([
      'set',
      'k',
      undefined,
    ]);
  });

  it('counts a line over the bound that arrives whole in one chunk', () => {
    const { splitter, lines, oversized } = collect(10);
    splitter.feed(Buffer.from('+0123456789ABCDEF\r\n+OK\r\n'));
    expect(lines).toEqual(['+OK']);
    expect(oversized.map((each) => each.bytes)).toEqual([19]);
  });
});
