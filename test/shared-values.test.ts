import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type ActorSystem,
  InvalidMessageError,
  InvalidOptionError,
  MessageTooLargeError,
  type ValueChange,
} from '../src/index.js';
import {
  deferred,
  rawClient,
  runTs,
  startOwnRedis,
  startSystem,
  uniqueNamespace,
} from './helpers.js';

/** A raw ioredis subscriber on `channel`: `next()` resolves with its next message not yet taken. */
async function rawSubscriber(channel: string): Promise<{ next(): Promise<unknown> }> {
  const client = rawClient();
  const messages: unknown[] = [];
  const waiting: ((message: unknown) => void)[] = [];
  client.on('message', (_channel: string, text: string) => {
    const waiter = waiting.shift();
    if (waiter === undefined) messages.push(JSON.parse(text));
    else waiter(JSON.parse(text));
  });
  await client.subscribe(channel);
  return {
    next: () =>
      messages.length > 0
        ? Promise.resolve(messages.shift())
        : new Promise((resolve) => waiting.push(resolve)),
  };
}

/** The `<namespace>:<address>:sub` connection of a system, as CLIENT LIST shows it. */
async function subscriberClientId(system: ActorSystem): Promise<string> {
  const list = (await rawClient().client('LIST')) as string;
  const line = list
    .split('\n')
    .find((each) => each.includes(` name=${system.namespace}:${system.address}:sub `));
  const id = /^id=(\d+) /.exec(line ?? '')?.[1];
  if (id === undefined)
    throw new Error(`no subscriber connection of ${system.address} in:\n${list}`);
  return id;
}

describe('shared values', () => {
  it('round-trips numbers, strings, nested data, typed arrays, Buffers and dates with their types', async () => {
    const system = await startSystem({ namespace: uniqueNamespace() });
    const values = system.values('mymodel');
    const special = new Float64Array([0.1, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE]);
    const stored = {
      arm_angle: 0.31,
      count: -42,
      label: 'hé ✓ 日本語',
      flag: false,
      nothing: null,
      nested: { list: [1, [2, 3], { deep: 'yes' }], empty: {}, none: [] },
      samples: special,
      bytes: new Uint8Array([0, 1, 254, 255]),
      buffer: Buffer.from('raw bytes'),
      arrayBuffer: new Uint16Array([1, 65535]).buffer,
      big: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
      view: new Int32Array(new Int32Array([7, 8, 9, 10]).buffer, 4, 2),
      at: new Date('2026-11-21T03:24:02.265Z'),
      dates: [new Date(0), { when: new Date(1e12) }],
    };
    const version = await values.setMany(stored);
    expect(version).toBe(1);
    expect(await values.set('arm_angle', 0.32)).toBe(2);

    expect(await values.get('arm_angle')).toBe(0.32);
    expect(await values.get('missing')).toBeUndefined();
    const all = await values.getAll();
    expect(Object.keys(all).sort()).toEqual(Object.keys(stored).sort());
    expect(all).toEqual({ ...stored, arm_angle: 0.32 });
    // toEqual does not look at classes of typed arrays or tell -0 from 0: check those bit by bit.
    const samples = all.samples;
    expect(samples).toBeInstanceOf(Float64Array);
    expect(Buffer.from((samples as Float64Array).buffer)).toEqual(Buffer.from(special.buffer));
    expect(Object.is((samples as Float64Array)[1], -0)).toBe(true);
    expect(all.bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(all.bytes)).toBe(false);
    expect(Buffer.isBuffer(all.buffer)).toBe(true);
    expect(all.arrayBuffer).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint16Array(all.arrayBuffer as ArrayBuffer)]).toEqual([1, 65535]);
    expect(all.big).toBeInstanceOf(BigInt64Array);
    expect([...(all.view as Int32Array)]).toEqual([8, 9]);
    expect(all.at).toBeInstanceOf(Date);
    expect((all.at as Date).toISOString()).toBe('2026-11-21T03:24:02.265Z');
    expect(((all.dates as unknown[])[1] as { when: Date }).when).toBeInstanceOf(Date);

    const some = await values.getMany(['count', 'samples', 'missing']);
    expect(some).toEqual({ count: -42, samples: special });
    expect('missing' in some).toBe(false);

    expect(await values.delete('count', 'label', 'never-set')).toBe(3);
    expect(await values.getMany(['count', 'label', 'flag'])).toEqual({ flag: false });
  });

  it('is typed by its schema on both ends', async () => {
    interface Arm {
      arm_angle: number;
      samples: Float64Array;
      joints: { name: string; angle: number }[];
    }
    const system = await startSystem({ namespace: uniqueNamespace() });
    const arm = system.values<Arm>('arm');
    await arm.setMany({ arm_angle: 1.5, samples: new Float64Array([1, 2]) });
    expectTypeOf(await arm.get('arm_angle')).toEqualTypeOf<number | undefined>();
    expectTypeOf(await arm.getMany(['arm_angle', 'samples'])).toEqualTypeOf<
      Partial<Pick<Arm, 'arm_angle' | 'samples'>>
    >();
    expectTypeOf(await arm.getAll()).toEqualTypeOf<Partial<Arm>>();
    const unsubscribe = await arm.watch('samples', (value, change) => {
      expectTypeOf(value).toEqualTypeOf<Float64Array | undefined>();
      expectTypeOf(change).toEqualTypeOf<ValueChange<'samples'>>();
    });
    await unsubscribe();
    // Compile-time checks (tsc runs over the tests): a wrong type or name does not compile.
    const misuses = [
      // @ts-expect-error: arm_angle holds a number
      () => arm.set('arm_angle', 'not a number'),
      // @ts-expect-error: the schema has no value of that name
      () => arm.get('arm_angel'),
      // @ts-expect-error: joints holds objects
      () => arm.setMany({ joints: [1, 2] }),
    ];
    expect(misuses).toHaveLength(3);
  });

  it('stores JSON a plain Redis client reads, and publishes documented notifications', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const values = system.values('mymodel');
    expect(values.key).toBe(`${namespace}:values:mymodel`);
    expect(values.channel).toBe(`${namespace}:values:mymodel`);
    const raw = rawClient();
    const subscriber = await rawSubscriber(values.channel);

    const written = values.setMany({
      arm_angle: 0.31,
      velocity: [1.5, -2],
      label: 'left arm',
      samples: new Float64Array([1.5, -0.25]),
      at: new Date('2026-11-21T03:24:02.265Z'),
    });
    const notification = await subscriber.next();
    expect(await written).toBe(1);
    expect(notification).toEqual({
      version: 1,
      values: {
        arm_angle: 0.31,
        velocity: [1.5, -2],
        label: 'left arm',
        samples: { $binary: 'Float64Array', base64: 'AAAAAAAA+D8AAAAAAADQvw==' },
        at: { $date: '2026-11-21T03:24:02.265Z' },
      },
    });
    expect(await raw.hgetall(values.key)).toEqual({
      arm_angle: '0.31',
      velocity: '[1.5,-2]',
      label: '"left arm"',
      samples: '{"$binary":"Float64Array","base64":"AAAAAAAA+D8AAAAAAADQvw=="}',
      at: '{"$date":"2026-11-21T03:24:02.265Z"}',
      $version: '1',
    });
    // What a Python reader does: json.loads, then numpy.frombuffer(base64decode(...), '<f8').
    const bytes = Buffer.from('AAAAAAAA+D8AAAAAAADQvw==', 'base64');
    expect([bytes.readDoubleLE(0), bytes.readDoubleLE(8)]).toEqual([1.5, -0.25]);

    const deleted = values.delete('label');
    expect(await subscriber.next()).toEqual({ version: 2, deleted: ['label'] });
    expect(await deleted).toBe(2);
  });

  it('decodes values other clients wrote; text that is not JSON comes back as it is', async () => {
    const system = await startSystem({ namespace: uniqueNamespace() });
    const values = system.values('mymodel');
    await rawClient().hset(values.key, {
      arm_angle: '0.31',
      on: 'true',
      list: '[1, 2.5, "three"]',
      quoted: '"hello"',
      word: 'hello',
      empty: '',
      almost: '{"a": 1',
      date: '{"$date":"2026-01-02T03:04:05.000Z"}',
      floats: '{"$binary":"Float64Array","base64":"AAAAAAAA+D8="}',
      notBinary: '{"$binary":"Float64Array","base64":"AAA="}',
      sneaky: '{"__proto__":{"polluted":true},"ok":1}',
      $other: '"hidden"',
    });
    expect(await values.get('arm_angle')).toBe(0.31);
    const all = await values.getAll();
    expect(all).toEqual({
      arm_angle: 0.31,
      on: true,
      list: [1, 2.5, 'three'],
      quoted: 'hello',
      word: 'hello',
      empty: '',
      almost: '{"a": 1',
      date: new Date('2026-01-02T03:04:05.000Z'),
      floats: new Float64Array([1.5]),
      // Not a whole number of elements: left as the plain object it is.
      notBinary: { $binary: 'Float64Array', base64: 'AAA=' },
      // sneaky: an own __proto__ key is what redis-actors never stores; left out, and refused by get.
    });
    await expect(values.get('sneaky')).rejects.toThrow(/unsafe key/);
    expect(all.floats).toBeInstanceOf(Float64Array);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never shows a reader half of a setMany, through getMany or watch', async () => {
    const namespace = uniqueNamespace();
    const writer = await startSystem({ namespace });
    const reader = await startSystem({ namespace });
    const written = writer.values<{ a: number; b: number; c: number[] }>('pair');
    const read = reader.values<{ a: number; b: number; c: number[] }>('pair');
    await written.setMany({ a: 0, b: 0, c: [0, 0] });
    const problems: string[] = [];
    const check = (snapshot: Partial<{ a: number; b: number; c: number[] }>, via: string): void => {
      const { a, b, c } = snapshot;
      if (a === undefined || b !== -a || c?.[0] !== a || c[1] !== 2 * a) {
        problems.push(`${via}: ${JSON.stringify(snapshot)}`);
      }
    };
    const watchedVersions: number[] = [];
    const unsubscribe = await read.watch(['a', 'b', 'c'], (snapshot, change) => {
      watchedVersions.push(change.version);
      check(snapshot, 'watch');
    });
    const updates = 500;
    const progress = { writing: true };
    const writes = (async () => {
      for (let i = 1; i <= updates; i++) await written.setMany({ a: i, b: -i, c: [i, 2 * i] });
      progress.writing = false;
    })();
    const seen = new Set<number>();
    while (progress.writing) {
      const snapshot = await read.getMany(['a', 'b', 'c']);
      check(snapshot, 'getMany');
      seen.add(snapshot.a ?? NaN);
    }
    await writes;
    const last = await read.getMany(['a', 'b', 'c']);
    expect(last).toEqual({ a: updates, b: -updates, c: [updates, 2 * updates] });
    expect(problems).toEqual([]);
    // The reads really were interleaved with the writes.
    expect(seen.size).toBeGreaterThan(10);
    await unsubscribe();
    expect(watchedVersions.length).toBeGreaterThan(0);
    expect(watchedVersions).toEqual([...watchedVersions].sort((x, y) => x - y));
  });

  it('calls a watcher for changes of the names it watches only, in order, until unsubscribed', async () => {
    const namespace = uniqueNamespace();
    const writer = await startSystem({ namespace });
    const watcher = await startSystem({ namespace });
    type Schema = { x: number; y: string; z: number };
    const values = writer.values<Schema>('model');
    const watched = watcher.values<Schema>('model');
    const xs: [number | undefined, ValueChange<'x'>][] = [];
    const pairs: [Partial<Schema>, ValueChange<'x' | 'y'>][] = [];
    const lastX = deferred();
    const lastPair = deferred();
    const unwatchX = await watched.watch('x', (value, change) => {
      xs.push([value, change]);
      if (value === 3) lastX.resolve();
    });
    const unwatchPair = await watched.watch(['x', 'y'], (snapshot, change) => {
      pairs.push([snapshot, change]);
      if (snapshot.x === 3) lastPair.resolve();
    });
    await values.set('z', 1); // version 1: nobody watches z
    await values.set('x', 1); // 2
    await values.setMany({ x: 2, y: 'two', z: 2 }); // 3
    await values.delete('y', 'z'); // 4
    await values.setMany({ x: 3, z: 3 }); // 5
    await Promise.all([lastX.promise, lastPair.promise]);
    expect(xs).toEqual([
      [1, { version: 2, names: ['x'] }],
      [2, { version: 3, names: ['x'] }],
      [3, { version: 5, names: ['x'] }],
    ]);
    expect(pairs).toEqual([
      [{ x: 1 }, { version: 2, names: ['x'] }],
      [
        { x: 2, y: 'two' },
        { version: 3, names: ['x', 'y'] },
      ],
      [{}, { version: 4, names: ['y'] }],
      [{ x: 3 }, { version: 5, names: ['x'] }],
    ]);

    // Both watches share one subscription: once the remaining one got x = 4, the other would have too.
    await unwatchX();
    const four = deferred();
    const unwatchFour = await watched.watch('x', (value) => {
      if (value === 4) four.resolve();
    });
    await values.set('x', 4);
    await four.promise;
    expect(xs).toHaveLength(3);
    expect(pairs.at(-1)?.[0]).toEqual({ x: 4 });
    await unwatchPair();
    await unwatchFour();
  });

  it('announces large updates by name, and watchers read the values', async () => {
    const namespace = uniqueNamespace();
    const system = await startSystem({ namespace });
    const values = system.values('frames');
    const subscriber = await rawSubscriber(values.channel);
    const image = new Float64Array(16 * 1024).map((_, i) => i / 7); // 128 KiB, 175 KB of base64
    const received = deferred<[unknown, ValueChange]>();
    await values.watch(['image', 'label'], (snapshot, change) => {
      received.resolve([snapshot, change]);
    });
    await values.setMany({ image, label: 'frame 7' });
    expect(await subscriber.next()).toEqual({ version: 1, names: ['image', 'label'] });
    const [snapshot, change] = await received.promise;
    expect(change).toEqual({ version: 1, names: ['image', 'label'] });
    expect(snapshot).toEqual({ image, label: 'frame 7' });
    expect((snapshot as { image: unknown }).image).toBeInstanceOf(Float64Array);
  });

  it('after a reconnect, gives a watcher what changed while it was disconnected', async () => {
    const namespace = uniqueNamespace();
    const writer = await startSystem({ namespace });
    const watcher = await startSystem({ namespace });
    const values = writer.values<{ x: number; y: number }>('model');
    await values.setMany({ x: 1, y: 1 });
    const changes: [unknown, ValueChange][] = [];
    const caughtUp = deferred();
    await watcher
      .values<{ x: number; y: number }>('model')
      .watch(['x', 'y'], (snapshot, change) => {
        changes.push([snapshot, change]);
        if (snapshot.x === 2) caughtUp.resolve();
      });
    const restored = new Promise((resolve) =>
      watcher.once('connection-restored', () => {
        resolve(undefined);
      }),
    );
    await rawClient().client('KILL', 'ID', await subscriberClientId(watcher));
    // Redis dropped the watcher's subscription before it runs this write: no notification reaches it.
    await values.set('x', 2);
    await restored;
    await caughtUp.promise;
    // A re-read, not a notification: it reports every watched name.
    expect(changes).toEqual([
      [
        { x: 2, y: 1 },
        { version: 2, names: ['x', 'y'] },
      ],
    ]);
  });

  it('writes through an empty script cache (a restarted Redis, SCRIPT FLUSH)', async () => {
    // A server of its own: flushing the shared one's scripts would touch other tests.
    const server = await startOwnRedis();
    const system = await startSystem({ url: server.url, namespace: uniqueNamespace() });
    const values = system.values('model');
    expect(await values.set('x', 1)).toBe(1);
    expect(await values.set('x', 2)).toBe(2);
    await system.command(['SCRIPT', 'FLUSH']);
    expect(await values.setMany({ x: 3, y: 4 })).toBe(3);
    expect(await values.getMany(['x', 'y'])).toEqual({ x: 3, y: 4 });
  });

  it('refuses values and names it cannot store faithfully, writing nothing', async () => {
    const system = await startSystem({ namespace: uniqueNamespace(), maxMessageBytes: 4096 });
    const values = system.values('model');
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    class Point {
      constructor(readonly x: number) {}
    }
    const refused: [unknown, RegExp][] = [
      [NaN, /"v": v is NaN, which JSON cannot hold; store null instead, or a Float64Array/],
      [{ a: [1, Infinity] }, /v\.a\[1\] is Infinity/],
      [undefined, /v is undefined; to remove a value, use delete\(\)/],
      [[1, undefined], /v\[1\] is undefined, which JSON would turn into null/],
      // eslint-disable-next-line no-sparse-arrays
      [[1, , 3], /v\[1\] is a hole/],
      [10n, /v is a BigInt/],
      [{ f: () => 1 }, /v\.f is a function/],
      [Symbol('s'), /v is a symbol/],
      [new Map([['a', 1]]), /v is a Map; store Object\.fromEntries\(map\) instead/],
      [new Set([1]), /v is a Set; store \[\.\.\.set\] instead/],
      [new Point(1), /v is a Point; store its data as a plain object/],
      [new Date(NaN), /v is an invalid Date/],
      [cycle, /v\.self refers back to itself/],
      [{ $date: 'x' }, /the key "\$date" is reserved/],
      [new DataView(new ArrayBuffer(4)), /v is a DataView/],
    ];
    for (const [value, message] of refused) {
      const attempt = values.setMany({ ok: 1, v: value });
      await expect(attempt).rejects.toBeInstanceOf(InvalidMessageError);
      await expect(attempt).rejects.toThrow(message);
    }
    await expect(values.set('v', 'x'.repeat(5000))).rejects.toBeInstanceOf(MessageTooLargeError);
    for (const name of ['', 'a b', 'a:b', '$version', '$x', '__proto__']) {
      await expect(values.set(name, 1)).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(values.get(name)).rejects.toBeInstanceOf(InvalidOptionError);
    }
    await expect(values.setMany({})).rejects.toThrow(/setMany\(\) needs at least one value/);
    await expect(values.delete()).rejects.toThrow(/delete\(\) needs at least one value name/);
    await expect(values.watch([], () => undefined)).rejects.toBeInstanceOf(InvalidOptionError);
    expect(() => system.values('my model')).toThrow(InvalidOptionError);
    expect(await rawClient().exists(values.key)).toBe(0);
  });

  it('couples two processes at 1 kHz: every snapshot consistent, the median fresh within 5 ms', async () => {
    const env = { REDIS_ACTORS_NAMESPACE: uniqueNamespace() };
    const reader = runTs('test/fixtures/values-reader.ts', [], env);
    await reader.waitForLine(/^READY$/);
    const writer = runTs('test/fixtures/values-writer.ts', ['2000'], env);
    const done = await writer.waitForLine(/^DONE \d+$/);
    const reportLine = await reader.waitForLine(/^REPORT /);
    const report = JSON.parse(reportLine.slice('REPORT '.length)) as {
      written: number;
      watch: Record<string, number>;
      getMany: Record<string, number>;
    };
    console.log(`shared values at 1 kHz: ${done}; ${reportLine}`);
    expect(report.written).toBe(Number(done.split(' ')[1]));
    expect(report.written).toBeGreaterThan(200);
    for (const via of [report.watch, report.getMany]) {
      expect(via.inconsistent).toBe(0);
      expect(via.wentBack).toBe(0);
    }
    // Pub/sub on a healthy connection loses nothing; allow a little for a noisy machine anyway.
    expect(report.watch.distinctTicks).toBeGreaterThanOrEqual(0.9 * report.written);
    expect(report.getMany.count).toBeGreaterThan(100);
    expect(report.watch.p50Ms).toBeLessThanOrEqual(5);
    expect(report.getMany.p50Ms).toBeLessThanOrEqual(5);
    expect((await reader.exited).code).toBe(0);
    expect((await writer.exited).code).toBe(0);
  });
});
