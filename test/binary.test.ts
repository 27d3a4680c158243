import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MessageTooLargeError, defineActor } from '../src/index.js';
import { deferred, rawClient, startSystem, uniqueNamespace } from './helpers.js';

const KB = 1024;
const MB = 1024 * KB;

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Random bits, NaN payloads and all: a round trip must keep every byte. */
function randomFloat64s(bytes: number): Float64Array {
  const array = new Float64Array(bytes / 8);
  randomFillSync(array);
  return array;
}

async function echoPair(options: { claimCheckTtlMs?: number; maxMessageBytes?: number } = {}) {
  const namespace = uniqueNamespace();
  const server = await startSystem({ namespace, ...options });
  const client = await startSystem({ namespace });
  await server.spawn(defineActor({ handlers: { echo: (body: unknown) => body } }), {
    name: 'echo',
  });
  return { namespace, server, client };
}

async function claimKeys(namespace: string): Promise<string[]> {
  return rawClient().keys(`${namespace}:claim:*`);
}

describe('binary payloads', () => {
  it.each([
    ['1 KB', KB],
    ['2 MB (claim check both ways)', 2 * MB],
    ['64 MB (claim check both ways)', 64 * MB],
  ])(
    'round-trips typed arrays and Buffers bit-exact at %s',
    async (_label, size) => {
      const { namespace, client } = await echoPair();
      const floats = randomFloat64s(size);
      const buffer = randomFillSync(Buffer.alloc(size));
      const small = {
        i8: Int8Array.from([-128, 0, 127]),
        u8c: Uint8ClampedArray.from([0, 255]),
        i16: Int16Array.from([-32768, 32767]),
        u32: Uint32Array.from([0, 2 ** 32 - 1]),
        f32: Float32Array.from([Math.PI, -0, Infinity]),
        big: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]),
        ubig: BigUint64Array.from([2n ** 64n - 1n]),
        arrayBuffer: Uint8Array.from([9, 8, 7]).buffer,
        empty: new Float64Array(0),
      };
      const back = await client.ask<{
        floats: Float64Array;
        buffer: Buffer;
        small: typeof small;
        label: string;
      }>(
        'echo',
        'echo',
        { floats, buffer, small, label: 'with json around it' },
        { timeoutMs: 60_000 },
      );
      expect(back.floats).toBeInstanceOf(Float64Array);
      expect(back.floats.length).toBe(floats.length);
      expect(Buffer.compare(bytesOf(back.floats), bytesOf(floats))).toBe(0);
      expect(Buffer.isBuffer(back.buffer)).toBe(true);
      expect(Buffer.compare(back.buffer, buffer)).toBe(0);
      expect(back.label).toBe('with json around it');
      const raw = (value: ArrayBufferView | ArrayBuffer) =>
        value instanceof ArrayBuffer ? Buffer.from(value) : bytesOf(value);
      for (const [name, value] of Object.entries(small)) {
        const returned = back.small[name as keyof typeof small];
        expect(returned.constructor.name, name).toBe(value.constructor.name);
        expect(raw(returned).equals(raw(value)), name).toBe(true);
      }
      // Delivered claim-checked messages leave nothing behind.
      expect(await claimKeys(namespace)).toEqual([]);
    },
    60_000,
  );

  it('sends binary as raw bytes in a binary frame, not as text', async () => {
    const { namespace, client, server } = await echoPair();
    const raw = rawClient().duplicate();
    const seen = deferred<Buffer>();
    raw.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
      seen.resolve(message);
    });
    await raw.subscribe(`${namespace}:${server.address}`);
    const floats = randomFloat64s(64 * KB);
    await client.tell(server.address, 'echo', floats);
    const frame = await seen.promise;
    raw.disconnect();
    expect([...frame.subarray(0, 4)]).toEqual([0x00, 0x52, 0x41, 0x42]);
    // 64 KiB of doubles plus a header of a few hundred bytes: no base64 (+33%), no number lists.
    expect(frame.length).toBeGreaterThan(64 * KB);
    expect(frame.length).toBeLessThan(64 * KB + 1024);
    expect(frame.includes(bytesOf(floats))).toBe(true);
  });

  it('lets a claim-checked message that nobody fetches expire', async () => {
    const namespace = uniqueNamespace();
    const sender = await startSystem({ namespace, claimCheckTtlMs: 300 });
    // A plain subscriber receives the stub but never fetches: the key must expire by itself.
    const raw = rawClient().duplicate();
    const stub = deferred<string>();
    raw.on('message', (_channel: string, message: string) => {
      stub.resolve(message);
    });
    await raw.subscribe(`${namespace}:bystander`);
    await sender.tell('bystander', 'data', Buffer.alloc(2 * MB, 7));
    const announced = JSON.parse(await stub.promise) as { claim: { key: string; size: number } };
    raw.disconnect();
    expect(announced.claim.key).toMatch(new RegExp(`^${namespace}:claim:`));
    expect(announced.claim.size).toBeGreaterThan(2 * MB);
    const ttl = await rawClient().pttl(announced.claim.key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    const deadline = Date.now() + 5000;
    while ((await rawClient().exists(announced.claim.key)) === 1) {
      if (Date.now() > deadline) throw new Error('claim key did not expire');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('deletes a claim-checked message at once when nobody received its stub', async () => {
    const namespace = uniqueNamespace();
    const sender = await startSystem({ namespace });
    await expect(sender.tell('nobody', 'data', Buffer.alloc(2 * MB))).rejects.toThrow(
      /nobody is listening/,
    );
    // The DEL was sent before the tell's rejection was delivered, on the same connection.
    await sender.command(['PING']);
    expect(await claimKeys(namespace)).toEqual([]);
  });

  it('raises MessageTooLargeError on the sender, before anything is sent', async () => {
    const { namespace, client } = await echoPair();
    const limited = await startSystem({ namespace, maxMessageBytes: 8 * MB });
    const before = limited.stats().sent;
    const error = await limited
      .ask('echo', 'echo', new Float64Array(2 * MB))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).size).toBeGreaterThan(16 * MB);
    expect(limited.stats().sent).toBe(before);
    expect(await claimKeys(namespace)).toEqual([]);
    expect(await client.ask('echo', 'echo', 1)).toBe(1);
  });

  it('has the receiver refuse a message over its own limit, without fetching it', async () => {
    const { namespace, client, server } = await echoPair({ maxMessageBytes: 4 * MB });
    const error = await client.ask('echo', 'echo', Buffer.alloc(6 * MB)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).limit).toBe(4 * MB);
    expect(server.stats().invalidByReason).toEqual({ oversized: 1 });
    await client.command(['PING']);
    expect(await claimKeys(namespace)).toEqual([]);
    expect(await client.ask('echo', 'echo', 'still serving')).toBe('still serving');
  });

  it('carries a 40 MB message without disconnecting the other subscribers of the channel', async () => {
    const { namespace, client } = await echoPair();
    const raw = rawClient().duplicate();
    const received: number[] = [];
    const second = deferred();
    raw.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
      received.push(message.length);
      if (received.length === 2) second.resolve();
    });
    let closed = false;
    raw.on('close', () => (closed = true));
    await raw.client('SETNAME', 'bystander');
    await raw.subscribe(`${namespace}:echo`);
    const idsBefore = (await rawClient().client('LIST')) as string;
    const big = randomFloat64s(40 * MB);
    const back = await client.ask<Float64Array>('echo', 'echo', big, { timeoutMs: 60_000 });
    expect(Buffer.compare(bytesOf(back), bytesOf(big))).toBe(0);
    await client.tell('echo', 'echo', 'after');
    await second.promise;
    // The bystander got a small stub, then the next message, on the same connection.
    expect(received[0]).toBeLessThan(4096);
    expect(closed).toBe(false);
    const bystanderId = (list: string) => /id=(\d+) [^\n]*name=bystander /.exec(list)?.[1];
    expect(bystanderId((await rawClient().client('LIST')) as string)).toBe(bystanderId(idsBefore));
    raw.disconnect();
  }, 60_000);
});
