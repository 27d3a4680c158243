/**
 * A half-open connection: the server stops answering without closing its
 * sockets (SIGSTOP). Detected within healthCheckIntervalMs + healthCheckTimeoutMs,
 * asks fail with typed errors within their timeouts, and everything recovers
 * after SIGCONT.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, RedisActorsError } from '../../src/index.js';
import { faultScene } from './scene.js';
import { timed } from './settle.js';

describe('half-open connection', () => {
  it('is detected within the documented bound, fails asks in their timeouts, and recovers after SIGCONT', async () => {
    const { redis, responder, system } = await faultScene();
    expect(await system.ask('remote', 'echo', 'before')).toBe('before');

    const lost = once(system, 'connection-lost');
    redis.freeze();
    const frozenAt = Date.now();
    const asks = Array.from({ length: 20 }, (_, i) =>
      timed(() => system.ask('remote', 'echo', i, { timeoutMs: 4000 }), 4000),
    );
    await lost;
    const detectionMs = Date.now() - frozenAt;
    const bound = DEFAULTS.healthCheckIntervalMs + DEFAULTS.healthCheckTimeoutMs;
    // The bound counts from the server's silence; this process's own timers may run a
    // little late on a loaded machine, which the documented bound states too.
    expect(detectionMs).toBeLessThanOrEqual(bound + 500);
    for (const { outcome, lateMs, error } of await Promise.all(asks)) {
      expect(error).toBeInstanceOf(RedisActorsError);
      expect(['ConnectionError', 'AskTimeoutError']).toContain(outcome);
      expect(lateMs).toBeLessThanOrEqual(100);
    }

    const restored = once(system, 'connection-restored');
    redis.thaw();
    const thawedAt = Date.now();
    await restored;
    const recoveryMs = Date.now() - thawedAt;
    await responder.waitForLine(/^RESTORED$/);
    expect(await system.ask('remote', 'echo', 'after')).toBe('after');
    console.log(
      `half-open: detected after ${detectionMs} ms (bound ${bound} ms), recovered ${recoveryMs} ms after SIGCONT`,
    );
  });
});
