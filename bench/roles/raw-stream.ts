/**
 * The hand-written Redis Streams baseline: `raw-stream.ts responder|requester <socket path> <key>`.
 * The requester (producer) XADDs JSON request bodies with auto-pipelining, at
 * most a window of XADDs unacknowledged; the responder is one consumer of a
 * consumer group: XREADGROUP COUNT 100 BLOCK 1000, checks and counts each
 * entry, then XACK + XDEL of the batch in one pipeline, so that the stream
 * does not grow beyond what waits to be read.
 */
import { Redis } from 'ioredis';
import { OneWayCheck } from '../one-way-check.js';
import { serve } from '../rpc.js';
import { requestBody, sendOneWay } from '../shapes.js';

const [role, socketPath, key] = process.argv.slice(2) as [string, string, string];
const GROUP = 'g';
const CONSUMER = 'c';
const BATCH = 100;

type StreamReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

if (role === 'responder') {
  const redis = new Redis({ path: socketPath });
  try {
    await redis.xgroup('CREATE', key, GROUP, '$', 'MKSTREAM');
  } catch (error) {
    // The group is there already (a second responder on the same key): read on from it.
    if (!String(error).includes('BUSYGROUP')) throw error;
  }
  const probe = new Redis({ path: socketPath });
  const check = new OneWayCheck();
  let handled = 0;
  const consume = async () => {
    for (;;) {
      const reply = (await redis.xreadgroup(
        'GROUP',
        GROUP,
        CONSUMER,
        'COUNT',
        BATCH,
        'BLOCK',
        1000,
        'STREAMS',
        key,
        '>',
      )) as StreamReply;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      const ids: string[] = [];
      for (const [id, fields] of entries) {
        // Fields are [name, value, …]; the body is the only one.
        check.check(JSON.parse(fields[1] ?? 'null'));
        handled++;
        ids.push(id);
      }
      await redis
        .pipeline()
        .xack(key, GROUP, ...ids)
        .xdel(key, ...ids)
        .exec();
    }
  };
  void consume().catch((error: unknown) => {
    console.error('raw-stream consumer:', error);
    process.exit(1);
  });
  serve(
    {
      oneWayMismatches: () => check.mismatches,
      // On a connection of its own: the consumer's is blocked in XREADGROUP most of the time.
      streamLength: () => probe.xlen(key),
    },
    () => handled,
  );
} else {
  const redis = new Redis({ path: socketPath, enableAutoPipelining: true });
  serve({
    tells: ({ window, durationMs }: { window: number; durationMs: number }) =>
      sendOneWay(
        (i) => redis.xadd(key, '*', 'body', JSON.stringify(requestBody(i))),
        window,
        durationMs,
      ),
  });
}
